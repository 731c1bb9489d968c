// The automation-latency bench's driver, in a process of its own so its CPU does not share the
// measured core's event loop: another "core" (its own pool, notification hub and entity
// registry) committing satellite connects and disconnects at a steady rate, open loop. Reads
// one JSON line on stdin, `{ satelliteIds, total }`; prints one JSON line when done,
// `{ committed: [[changeId, at], …] }` (at: wall clock, epoch ms, when the mutation returned).
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createNotificationHub } from "../packages/server/src/cluster/index.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { SatelliteService } from "../packages/server/src/satellites/connection/service.ts";
import { createPool } from "../packages/server/src/storage/index.ts";

const { values } = parseArgs({ options: { "database-url": { type: "string" }, rate: { type: "string" }, connections: { type: "string", default: "4" } } });
const rate = Number(values.rate);
const now = () => performance.timeOrigin + performance.now();

// The bench stops this process with SIGTERM once it answered: exit so that node's exit hooks run
// (a profile asked for with NODE_OPTIONS="--cpu-prof" is written only on exit, not on a signal).
process.once("SIGTERM", () => process.exit(0));

const logger = silentLogger();
const pool = createPool(values["database-url"]!, logger, { max: Number(values.connections), applicationName: "automation-latency-driver" });
// Announces through its own notification hub's connection, as a core does.
const hub = createNotificationHub({ pool, logger });
await hub.start();
const entities = createEntityRegistry({ pool, logger, hub });
const satellites = new SatelliteService({ pool, entities, logger });

const [line] = (await once(createInterface({ input: process.stdin }), "line")) as [string];
const { satelliteIds, total } = JSON.parse(line) as { satelliteIds: string[]; total: number };

/**
 * Commits `total` changes at `rate` per second, open loop (a slow commit does not delay the
 * next one), round robin over the satellites, each alternating connected / disconnected.
 */
async function driveChanges(): Promise<Array<[string, number]>> {
  const sessions = new Map<string, string>();
  const chains = new Map<string, Promise<unknown>>();
  const committed: Array<Promise<[string, number]>> = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    if (due > performance.now()) await sleep(due - performance.now());
    const satelliteId = satelliteIds[i % satelliteIds.length]!;
    const mutate = async (): Promise<[string, number]> => {
      const session = sessions.get(satelliteId);
      let result;
      if (session) {
        sessions.delete(satelliteId);
        result = await satellites.markDisconnected({ satelliteId, sessionId: session });
      } else {
        const sessionId = randomUUID();
        sessions.set(satelliteId, sessionId);
        result = await satellites.markConnected({ satelliteId, sessionId, instanceId: "automation-latency-driver" });
      }
      const at = now();
      if (!result.change?.changeId) throw new Error(`change ${i} recorded nothing`);
      return [result.change.changeId, at];
    };
    // A satellite's changes stay in order (its previous one is long done at any sane rate).
    const next = (chains.get(satelliteId) ?? Promise.resolve()).then(mutate);
    chains.set(satelliteId, next);
    committed.push(next);
  }
  return Promise.all(committed);
}

const cpuBefore = process.cpuUsage();
const committed = await driveChanges();
// This process's own CPU while it drove (its PostgreSQL backend's is counted by the bench).
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ committed, cpuMicros: cpu.user + cpu.system })}\n`);
await entities.flush();
await hub.stop();
await pool.end();
