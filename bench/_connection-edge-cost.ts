// What one satellite connect or disconnect edge costs, the automation-latency driver's work
// (bench/_change-driver.ts) without the rest of that bench: per mutation, the client's CPU, the
// database backends' user and system CPU (from /proc), the other PostgreSQL processes' CPU, WAL
// bytes, WAL flushes, commits and statements; medians of rounds. Per-unit measures that load
// moves less than rates. Usage:
// node --import tsx bench/_connection-edge-cost.ts [--count 2000] [--rounds 5] [--writers 1] [--batch 1] [--statement-stats] [--pg-setting name=value]
// --batch N: the gateway's storm instead — N satellites connected in one markConnectedMany (with
// their token hashes, as the gateway checks them), then closed in one markDisconnectedMany.
// `client queries` counts pg.Client#query calls per edge: a pipelined round trip is one call.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { createNotificationHub } from "../packages/server/src/cluster/index.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { SatelliteService } from "../packages/server/src/satellites/connection/service.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, parseSettings, resetStatementStats, statementProfile, statementsExecuted, table, walCounters } from "./_database.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
    writers: { type: "string", default: "1" },
    satellites: { type: "string", default: "200" },
    batch: { type: "string", default: "1" },
    "statement-stats": { type: "boolean", default: false },
    /** Server settings of the embedded PostgreSQL, e.g. `synchronous_commit=off` (what the commit's WAL flush costs). */
    "pg-setting": { type: "string", multiple: true },
  },
});
const count = Number(values.count);
const batch = Number(values.batch);
let clientQueries = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  clientQueries++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
const writers = Number(values.writers);
const APPLICATION = "edge-cost-driver";
const CLOCK_TICKS_PER_SECOND = 100;

const database = await openBenchDatabase({ statementStats: values["statement-stats"], settings: parseSettings(values["pg-setting"]) });
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: writers + 2, applicationName: APPLICATION });
const observer = createPool(database.url, logger, { max: 1, applicationName: "edge-cost-observer" });
const hub = createNotificationHub({ pool, logger });
await hub.start();
const entities = createEntityRegistry({ pool, logger, hub });
const satellites = new SatelliteService({ pool, entities, logger });
const satelliteIds: string[] = [];
for (let i = 0; i < Number(values.satellites); i++) {
  satelliteIds.push(await satellites.create({ name: `edge-cost-${i}`, region: "bench", tokenHash: "x".repeat(64) }));
}

/** User and system CPU seconds so far of every PostgreSQL process, by pid, with whether it is one of the driver's backends. */
async function databaseCpu(): Promise<Map<number, { ours: boolean; user: number; system: number }>> {
  const { rows } = await observer.query<{ pid: number; ours: boolean }>(
    "SELECT pid, coalesce(application_name = $1, false) AS ours FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    [APPLICATION],
  );
  const cpu = new Map<number, { ours: boolean; user: number; system: number }>();
  for (const { pid, ours } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu.set(pid, { ours, user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND });
    } catch {
      // ended meanwhile
    }
  }
  return cpu;
}

async function walBytes(): Promise<number> {
  const { rows } = await observer.query<{ lsn: string }>("SELECT (pg_current_wal_insert_lsn() - '0/0')::text AS lsn");
  return Number(rows[0]!.lsn);
}

const sessions = new Map<string, string>();
/** The next edge of a satellite: connected when it has no session, else the close of that session. */
async function edge(satelliteId: string): Promise<void> {
  const session = sessions.get(satelliteId);
  if (session) {
    sessions.delete(satelliteId);
    await satellites.markDisconnected({ satelliteId, sessionId: session });
  } else {
    const sessionId = randomUUID();
    sessions.set(satelliteId, sessionId);
    await satellites.markConnected({ satelliteId, sessionId, instanceId: APPLICATION });
  }
}

/** N satellites' connects in one batch, then their closes in another: 2N edges. */
async function batchOfEdges(ids: readonly string[]): Promise<void> {
  const inputs = ids.map((satelliteId) => ({ satelliteId, sessionId: randomUUID(), instanceId: APPLICATION, tokenHash: "x".repeat(64) }));
  await satellites.markConnectedMany(inputs);
  await satellites.markDisconnectedMany(inputs.map(({ satelliteId, sessionId }) => ({ satelliteId, sessionId })));
}

/** `n` edges on `writers` loops, each on satellites of its own (`--satellites` a multiple of `--writers`): a satellite's edges stay in order. */
async function run(n: number): Promise<void> {
  let started = 0;
  if (batch > 1) {
    for (let i = 0; started < n; i += batch, started += 2 * batch) {
      await batchOfEdges(Array.from({ length: batch }, (_, j) => satelliteIds[(i + j) % satelliteIds.length]!));
    }
    return;
  }
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let i = writer; started < n; i += writers) {
        started++;
        await edge(satelliteIds[i % satelliteIds.length]!);
      }
    }),
  );
}

await run(Math.min(count, 1000));
const perRound: Array<Record<string, number>> = [];
for (let round = 0; round < Number(values.rounds); round++) {
  if (values["statement-stats"] && round === Number(values.rounds) - 1) await resetStatementStats(observer);
  const [cpuBefore, walBefore, countersBefore, statementsBefore] = [
    await databaseCpu(),
    await walBytes(),
    await walCounters(observer),
    values["statement-stats"] ? await statementsExecuted(observer) : 0,
  ];
  const clientBefore = process.cpuUsage();
  const queriesBefore = clientQueries;
  await run(count);
  const client = process.cpuUsage(clientBefore);
  const queries = clientQueries - queriesBefore;
  const [cpuAfter, walAfter, countersAfter, statementsAfter] = [
    await databaseCpu(),
    await walBytes(),
    await walCounters(observer),
    values["statement-stats"] ? await statementsExecuted(observer) : 0,
  ];
  let backendUser = 0;
  let backendSystem = 0;
  let others = 0;
  for (const [pid, after] of cpuAfter) {
    const before = cpuBefore.get(pid) ?? { user: 0, system: 0 };
    if (after.ours) {
      backendUser += after.user - before.user;
      backendSystem += after.system - before.system;
    } else others += after.user - before.user + after.system - before.system;
  }
  const per = (x: number) => x / count;
  perRound.push({
    "client ms": per((client.user + client.system) / 1000),
    "client queries": per(queries),
    "backend user ms": per(backendUser * 1000),
    "backend sys ms": per(backendSystem * 1000),
    "other PG ms": per(others * 1000),
    "WAL bytes": per(walAfter - walBefore),
    "WAL flushes": per(countersAfter.fsyncs - countersBefore.fsyncs),
    commits: per(countersAfter.commits - countersBefore.commits),
    ...(values["statement-stats"] ? { statements: per(statementsAfter - statementsBefore) } : {}),
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const columns = Object.keys(perRound[0]!);
const row = (label: string, pick: (column: string) => number) => ({
  "": label,
  ...Object.fromEntries(columns.map((column) => [column, pick(column).toFixed(column === "WAL bytes" ? 0 : 3)])),
});
console.log(
  `edge cost: ${database.describe}; ${count} edges per round (${batch > 1 ? `batches of ${batch} connects, then their closes` : "connect/disconnect alternating"}) over ${satelliteIds.length} satellites, ${writers} writer(s); per edge:`,
);
console.log(table([...perRound.map((r, i) => row(`round ${i + 1}`, (c) => r[c]!)), row("median", (c) => median(perRound.map((r) => r[c]!)))]));
if (values["statement-stats"]) console.log(await statementProfile(observer, 15, { count, name: "edge" }));
await entities.flush();
await hub.stop();
await pool.end();
await observer.end();
await database.close();
