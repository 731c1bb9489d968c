// Chaos: several core processes over one PostgreSQL under a fleet of satellites, one core
// killed with SIGKILL every 10–15 s and started again on its port. The satellites reconnect
// (to the next core) like the agent, and churn — clean disconnects and reconnects, each a
// change that fires one automation (a webhook to a receiver in another process). When the
// chaos stops and everything settled, the report checks the core promise against the outbox:
// every change that fires the automation has exactly one run, every run succeeded, every
// run's webhook arrived. Redeliveries (a step sent again with its Idempotency-Key after its
// core died mid-step) are allowed and counted. Exits 1 when anything was lost or duplicated.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes, randomUUID } from "node:crypto";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import type { EntityChanged } from "../packages/protocol/src/index.ts";
import { hashToken } from "../packages/server/src/auth/index.ts";
import { deriveSatelliteConnectionEvents } from "../packages/server/src/satellites/connection/entity.ts";
import { findFreePort } from "../packages/server/src/storage/postgres/embedded-postgres.ts";
import { openBenchDatabase, table } from "./_database.ts";
import { type Child, createAutomation, startChild, startCoreProcess } from "./_core-process.ts";
import { stopChild } from "./_process.ts";

const { values } = parseArgs({
  options: {
    cores: { type: "string", default: "3" },
    satellites: { type: "string", default: "300" },
    "duration-seconds": { type: "string", default: "60" },
    /** A kill every this many seconds, drawn uniformly: `min-max`. */
    "kill-every": { type: "string", default: "10-15" },
    "churn-per-second": { type: "string", default: "10" },
    "heartbeat-ms": { type: "string", default: "1000" },
    /** How long to wait after the last kill for every run to end and every webhook to arrive (a killed core's claimed jobs return when its worker lease expires). */
    "settle-seconds": { type: "string", default: "120" },
  },
});
const coreCount = Number(values.cores);
const fleetSize = Number(values.satellites);
const durationMs = Number(values["duration-seconds"]) * 1000;
const [killMinMs, killMaxMs] = values["kill-every"].split("-").map((s) => Number(s) * 1000) as [number, number];
const heartbeatMs = Number(values["heartbeat-ms"]);
const settleMs = Number(values["settle-seconds"]) * 1000;

const RECEIVER = fileURLToPath(new URL("./_webhook-receiver.ts", import.meta.url));
const FLEET = fileURLToPath(new URL("./_satellite-fleet-process.ts", import.meta.url));
const TOKEN = `vsat_${randomBytes(32).toString("base64url")}`;
const ADMIN_TOKEN = `bench-admin-${randomUUID()}`;
const progress = (line: string) => process.stderr.write(`… ${line}\n`);

const startCore = (databaseUrl: string, port: number) => startCoreProcess({ databaseUrl, port, adminToken: ADMIN_TOKEN, heartbeatMs, logLevel: "error" });

function webhookOnEveryConnectionEvent(hookUrl: string) {
  return {
    name: "chaos: a webhook on every satellite connection event",
    triggers: [{ event: "satellite.connected" }, { event: "satellite.disconnected" }, { event: "satellite.heartbeat_lost" }],
    mode: "parallel",
    concurrency: "context",
    actions: [{ webhook: { url: hookUrl, body: { satelliteId: "{{ trigger.payload.satelliteId }}", event: "{{ trigger.event }}" } } }],
  };
}

interface Verdict {
  firing: number;
  runs: number;
  /** Firing changes without a run or a skip: lost by the router. */
  unrouted: number;
  skipped: number;
  /** Changes with more than one run. */
  duplicatedRuns: number;
  notSucceeded: Record<string, number>;
  /** Runs whose webhook never arrived. */
  undelivered: number;
  /** Deliveries beyond the first of one run (the same Idempotency-Key sent again). */
  redeliveries: number;
}

async function verify(pool: pg.Pool, automationId: string, fromSeq: string, deliveredRuns: ReadonlyMap<string, number>): Promise<Verdict> {
  const { rows: changes } = await pool.query<{ change_id: string; prev: EntityChanged["prev"]; next: EntityChanged["next"]; cause: EntityChanged["cause"] }>(
    "SELECT change_id, prev, next, cause FROM entity_changes WHERE kind = 'satellite-connection' AND seq > $1 ORDER BY seq",
    [fromSeq],
  );
  // The core's own deriver decides which changes fire the automation (all three triggers).
  const firing = new Set(
    changes.filter((change) => deriveSatelliteConnectionEvents(change as unknown as EntityChanged).length > 0).map((change) => change.change_id),
  );
  const { rows: runs } = await pool.query<{ id: string; change_id: string; status: string }>(
    "SELECT id, change_id, status FROM automation_runs WHERE automation_id = $1",
    [automationId],
  );
  const { rows: skips } = await pool.query<{ change_id: string }>("SELECT change_id FROM automation_skips WHERE automation_id = $1", [automationId]);
  const runsByChange = new Map<string, number>();
  for (const run of runs) runsByChange.set(run.change_id, (runsByChange.get(run.change_id) ?? 0) + 1);
  const skipped = new Set(skips.map((skip) => skip.change_id));
  const notSucceeded: Record<string, number> = {};
  for (const run of runs) if (run.status !== "succeeded") notSucceeded[run.status] = (notSucceeded[run.status] ?? 0) + 1;
  return {
    firing: firing.size,
    runs: runs.length,
    unrouted: [...firing].filter((id) => !runsByChange.has(id) && !skipped.has(id)).length,
    skipped: skipped.size,
    duplicatedRuns: [...runsByChange.values()].filter((n) => n > 1).length,
    notSucceeded,
    undelivered: runs.filter((run) => !deliveredRuns.has(run.id)).length,
    redeliveries: [...deliveredRuns.values()].reduce((sum, n) => sum + n - 1, 0),
  };
}

/** Deliveries per run id, from the receiver (the Idempotency-Key is `<run>:<step>`). */
async function deliveries(receiver: Child): Promise<Map<string, number>> {
  receiver.send("arrivals");
  const { arrivals } = (await receiver.next()) as { arrivals: Array<[string, number]> };
  const byRun = new Map<string, number>();
  for (const [run] of arrivals) byRun.set(run, (byRun.get(run) ?? 0) + 1);
  return byRun;
}

const receiver = startChild([RECEIVER]);
const { port: receiverPort } = (await receiver.next()) as { port: number };
const database = await openBenchDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
interface CoreSlot {
  port: number;
  process: ChildProcess;
  /** Started and ready (not killed, not restarting). */
  up: boolean;
}
const cores: CoreSlot[] = [];
let fleet: Child | undefined;
let verdict: Verdict | undefined;
let kills = 0;
let settledMs = 0;
try {
  await pool.query(
    `INSERT INTO satellites (name, region, token_hash, offline_threshold_ms)
     SELECT 'chaos-' || lpad(g::text, 6, '0'), 'region-' || (g % 5), $1, $2 FROM generate_series(1, $3) AS g`,
    [hashToken(TOKEN), 3 * heartbeatMs, fleetSize],
  );
  progress(`starting ${coreCount} cores`);
  for (let i = 0; i < coreCount; i++) {
    const port = await findFreePort();
    cores.push({ port, process: await startCore(database.url, port), up: true });
  }
  const automationId = await createAutomation(
    `http://127.0.0.1:${cores[0]!.port}`,
    ADMIN_TOKEN,
    webhookOnEveryConnectionEvent(`http://127.0.0.1:${receiverPort}/hook`),
  );
  // Every core reloads its automation index on the definitions' NOTIFY; only changes after it count.
  await sleep(1000);
  const { rows } = await pool.query<{ seq: string }>("SELECT coalesce(max(seq), 0)::text AS seq FROM entity_changes");
  const fromSeq = rows[0]!.seq;

  progress(`connecting ${fleetSize} satellites (reconnecting, ${values["churn-per-second"]} churns/s)`);
  fleet = startChild([
    FLEET,
    "--database-url",
    database.url,
    "--urls",
    cores.map((core) => `ws://127.0.0.1:${core.port}/ws/satellite`).join(","),
    "--token",
    TOKEN,
    "--heartbeat-ms",
    String(heartbeatMs),
    "--reconnect",
    "--churn-per-second",
    values["churn-per-second"],
  ]);
  await fleet.next();

  // Kills on their own schedule: a restarting core (seconds on a loaded machine) does not push
  // the next kill back; only a core that is up is drawn.
  const chaosEndsAt = Date.now() + durationMs;
  const restarts: Array<Promise<void>> = [];
  const restart = async (core: CoreSlot) => {
    core.process = await startCore(database.url, core.port);
    core.up = true;
  };
  for (;;) {
    const waitMs = killMinMs + Math.random() * (killMaxMs - killMinMs);
    if (Date.now() + waitMs > chaosEndsAt) break;
    await sleep(waitMs);
    const up = cores.filter((core) => core.up);
    if (up.length === 0) continue;
    const victim = up[Math.floor(Math.random() * up.length)]!;
    const exited = once(victim.process, "exit");
    victim.up = false;
    victim.process.kill("SIGKILL");
    await exited;
    kills++;
    progress(`killed the core on port ${victim.port} (kill ${kills}); starting it again`);
    restarts.push(restart(victim));
  }
  await Promise.all(restarts);

  progress("chaos over: the churn stops, every satellite reconnects");
  const lastKillAt = Date.now();
  fleet.send("calm");
  await fleet.next();
  for (const deadline = Date.now() + settleMs; ;) {
    verdict = await verify(pool, automationId, fromSeq, await deliveries(receiver));
    const settled = verdict.unrouted === 0 && verdict.undelivered === 0 && Object.keys(verdict.notSucceeded).length === 0;
    if (settled || Date.now() > deadline) break;
    progress(`settling: ${verdict.firing} firing changes, ${verdict.runs} runs, ${verdict.unrouted} not routed yet, ${verdict.undelivered} not delivered yet`);
    await sleep(2000);
  }
  settledMs = Date.now() - lastKillAt;
  // A late duplicate would show here.
  await sleep(1000);
  verdict = await verify(pool, automationId, fromSeq, await deliveries(receiver));
} finally {
  if (fleet) await stopChild(fleet.process);
  for (const core of cores) await stopChild(core.process);
  await stopChild(receiver.process);
  await pool.end();
  await database.close();
}

const v = verdict!;
console.log(
  `core-kills: ${coreCount} cores, ${fleetSize} satellites (heartbeat ${heartbeatMs} ms), ${values["churn-per-second"]} churns/s, ` +
    `one core SIGKILLed every ${values["kill-every"]} s for ${durationMs / 1000} s; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`,
);
console.log(
  table([
    {
      kills,
      "firing changes": v.firing,
      runs: v.runs,
      "not routed (lost)": v.unrouted,
      skipped: v.skipped,
      "changes with > 1 run": v.duplicatedRuns,
      "runs not succeeded": JSON.stringify(v.notSucceeded),
      "webhooks missing": v.undelivered,
      "redeliveries (same key)": v.redeliveries,
      "last kill → settled s": (settledMs / 1000).toFixed(1),
    },
  ]),
);
if (v.unrouted > 0 || v.duplicatedRuns > 0 || v.undelivered > 0 || Object.keys(v.notSucceeded).length > 0) {
  console.log("FAILED: something was lost, duplicated or did not finish");
  process.exitCode = 1;
}
