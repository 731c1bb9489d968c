// A mass outage: every satellite of a fleet falls silent at once, and one automation on
// `satellite.heartbeat_lost` sends a webhook per satellite to a receiver in another process.
// Timed from the first loss recorded to the last webhook received, with one core process and
// then with two; runs/s sustained, the cores' CPU per run, duplicates and missing (both 0), and
// how busy the host's CPUs were over the drain: on a host whose CPUs the cores, PostgreSQL, the
// fleet and the receiver share, a second core can only help while they have room left.
// The satellites (raw ws clients) and the receiver run in processes of their own.
import type { ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { hashToken } from "../packages/server/src/auth/index.ts";
import { findFreePort } from "../packages/server/src/storage/postgres/embedded-postgres.ts";
import {
  committedTransactions,
  openBenchDatabase,
  parseSettings,
  resetStatementStats,
  sampleDatabaseWaits,
  statementProfile,
  table,
  walCounters,
} from "./_database.ts";
import { type Child, createAutomation, startChild, startCoreProcess } from "./_core-process.ts";
import { hostCpu, postmasterOf, processTreeCpuSeconds, sampleProcess, stopChild } from "./_process.ts";
import { parseHistoryCount, seedRunHistory } from "./_run-history.ts";

const { values } = parseArgs({
  options: {
    satellites: { type: "string", default: "10000" },
    cores: { type: "string", default: "1,2" },
    "heartbeat-ms": { type: "string", default: "1000" },
    "timeout-seconds": { type: "string", default: "120" },
    "connect-concurrency": { type: "string", default: "200" },
    /** Writes a V8 CPU profile of each core process into this folder when it exits. */
    "cpu-prof-dir": { type: "string" },
    /** A setting of the bench's embedded PostgreSQL, `name=value` (repeatable), e.g. `synchronous_commit=off`. */
    "pg-setting": { type: "string", multiple: true },
    /** Prints the statements that took the database's time during the drain (pg_stat_statements). */
    "statement-stats": { type: "boolean", default: false },
    /**
     * Finished runs seeded (and the run tables analyzed) before the outage, as a system that has
     * been up for a day holds: bench/_run-history.ts says why the plans need them. 0: a fresh install.
     */
    history: { type: "string", default: "20000" },
  },
});
const databaseOptions = { settings: parseSettings(values["pg-setting"]), statementStats: values["statement-stats"] };
const fleetSize = Number(values.satellites);
const historyCount = parseHistoryCount(values.history);
const heartbeatMs = Number(values["heartbeat-ms"]);
// The fast timeout a lab uses: three heartbeats, set per satellite (offline_threshold_ms).
const thresholdMs = 3 * heartbeatMs;
const timeoutMs = Number(values["timeout-seconds"]) * 1000;

const RECEIVER = fileURLToPath(new URL("./_webhook-receiver.ts", import.meta.url));
const FLEET = fileURLToPath(new URL("./_satellite-fleet-process.ts", import.meta.url));
const TOKEN = `vsat_${randomBytes(32).toString("base64url")}`;
const ADMIN_TOKEN = `bench-admin-${randomUUID()}`;
const progress = (phase: string) => process.stderr.write(`… ${phase}\n`);

async function startCore(databaseUrl: string): Promise<{ process: ChildProcess; url: string }> {
  const port = await findFreePort();
  const child = await startCoreProcess({ databaseUrl, port, adminToken: ADMIN_TOKEN, heartbeatMs, cpuProfDir: values["cpu-prof-dir"] });
  return { process: child, url: `http://127.0.0.1:${port}` };
}

function pageOnEveryLoss(hookUrl: string) {
  return {
    name: "bench: page on every lost satellite",
    triggers: [{ event: "satellite.heartbeat_lost" }],
    // One scope per satellite: every loss runs, however many are in flight.
    mode: "parallel",
    concurrency: "context",
    actions: [{ webhook: { url: hookUrl, body: { satelliteId: "{{ trigger.payload.satelliteId }}" } } }],
  };
}

interface Outcome {
  cores: number;
  connectPerSecond: number;
  lossesRecorded: number;
  falseAlarms: number;
  /** First loss recorded → last loss recorded (the monitor's share), ms. */
  lossSpanMs: number;
  /** First loss recorded → last run admitted by the router, ms. */
  routedMs: number;
  /** First loss recorded → last webhook received, ms. */
  drainMs: number;
  received: number;
  distinct: number;
  duplicates: number;
  runsSucceeded: number;
  runsOther: number;
  skips: number;
  coreCpuSeconds: number;
  /** PostgreSQL's CPU (postmaster, backends, workers) over the same window; null when it runs elsewhere. */
  databaseCpuSeconds: number | null;
  loadBefore: number;
  loadAfter: number;
  /** The host's CPU over the drain (first loss → the poll that saw the last webhook): busy share of its CPUs, busy ms. */
  hostBusyShare: number;
  hostBusyMs: number;
  /** Transactions the database committed from the silence to the last webhook (any session). */
  transactions: number;
  /** WAL flushes (fsyncs) of the database over the same window, cluster-wide. */
  walFlushes: number;
  /** What the database's busy sessions did meanwhile: mean sessions per wait, most first. */
  waits: Array<[string, number]>;
  /** The statements that took the database's time during the drain (--statement-stats). */
  statements?: string;
  database: string;
}

/** CPU seconds so far of the PostgreSQL server behind `pool` (null when it runs elsewhere). */
async function databaseCpuOf(pool: pg.Pool): Promise<(() => number) | null> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = postmasterOf(rows[0]!.pid);
  return postmaster === null ? null : () => processTreeCpuSeconds(postmaster);
}

async function runScenario(coreCount: number, receiver: Child, hookUrl: string): Promise<Outcome> {
  const database = await openBenchDatabase(databaseOptions);
  const pool = new pg.Pool({ connectionString: database.url, max: 3 });
  const children: Array<{ process: ChildProcess }> = [];
  try {
    await pool.query(
      `INSERT INTO satellites (name, region, token_hash, offline_threshold_ms)
       SELECT 'bench-' || lpad(g::text, 6, '0'), 'region-' || (g % 5), $1, $2 FROM generate_series(1, $3) AS g`,
      [hashToken(TOKEN), thresholdMs, fleetSize],
    );
    progress(`${coreCount} core(s): starting`);
    const cores = [];
    for (let i = 0; i < coreCount; i++) cores.push(await startCore(database.url));
    children.push(...cores);
    const automationId = await createAutomation(cores[0]!.url, ADMIN_TOKEN, pageOnEveryLoss(hookUrl));
    const historyAutomationId = await createAutomation(cores[0]!.url, ADMIN_TOKEN, { ...pageOnEveryLoss(hookUrl), name: "bench: history", enabled: false });
    await seedRunHistory(pool, historyAutomationId, historyCount);
    // Every core reloads its automation index on the definitions' NOTIFY; give it a moment.
    await sleep(500);

    progress(`${coreCount} core(s): connecting ${fleetSize} satellites`);
    const fleet = startChild([
      FLEET,
      "--database-url",
      database.url,
      "--urls",
      cores.map((c) => `${c.url.replace("http", "ws")}/ws/satellite`).join(","),
      "--token",
      TOKEN,
      "--heartbeat-ms",
      String(heartbeatMs),
      "--concurrency",
      values["connect-concurrency"]!,
    ]);
    children.push(fleet);
    const { perSecond } = (await fleet.next()) as { perSecond: number };
    await sleep(2 * heartbeatMs); // every satellite has heartbeated, every connect committed
    // A fleet connected before its outage has statistics (autovacuum's analyze), as the run tables do.
    if (historyCount > 0) await pool.query("VACUUM ANALYZE satellites");
    receiver.send("reset");
    await receiver.next();

    progress(`${coreCount} core(s): the whole fleet falls silent`);
    const loadBefore = os.loadavg()[0]!;
    const cpuBefore = cores.map((core) => sampleProcess(core.process.pid!).cpuSeconds);
    const databaseCpu = await databaseCpuOf(pool);
    const databaseCpuBefore = databaseCpu?.();
    const transactionsBefore = await committedTransactions(pool);
    const walBefore = await walCounters(pool);
    const waits = sampleDatabaseWaits(pool, undefined, 50);
    if (databaseOptions.statementStats) await resetStatementStats(pool);
    // The host's CPU times at each poll, to take the drain's share once the first loss is known.
    const hostSamples = [{ at: Date.now(), ...hostCpu() }];
    fleet.send("silence");
    const { silencedAt } = (await fleet.next()) as { silencedAt: number };
    let report = { received: 0, distinct: 0, duplicates: 0, firstAt: 0, lastAt: 0 };
    const deadline = Date.now() + thresholdMs + timeoutMs;
    // Each second: the runs admitted, executing and ended, and the webhooks received (stderr).
    let nextTraceAt = Date.now();
    while (report.distinct < fleetSize && Date.now() < deadline) {
      await sleep(250);
      receiver.send("report");
      report = (await receiver.next()) as typeof report;
      hostSamples.push({ at: Date.now(), ...hostCpu() });
      if (Date.now() >= nextTraceAt) {
        nextTraceAt += 1000;
        const { rows } = await pool.query<{ admitted: number; running: number; ended: number }>(
          `SELECT count(*)::int AS admitted, (count(*) FILTER (WHERE status = 'running'))::int AS running,
             (count(*) FILTER (WHERE status IN ('succeeded', 'failed')))::int AS ended FROM automation_runs WHERE automation_id = $1`,
          [automationId],
        );
        const { admitted, running, ended } = rows[0]!;
        progress(`${((Date.now() - silencedAt) / 1000).toFixed(0)} s: ${admitted} admitted, ${running} running, ${ended} ended, ${report.distinct} webhooks`);
      }
    }
    const coreCpuSeconds = cores.reduce((sum, core, i) => sum + sampleProcess(core.process.pid!).cpuSeconds - cpuBefore[i]!, 0);
    const databaseCpuSeconds = databaseCpu ? databaseCpu() - databaseCpuBefore! : null;
    const loadAfter = os.loadavg()[0]!;
    const waited = await waits.stop();
    const transactions = (await committedTransactions(pool)) - transactionsBefore;
    const walFlushes = (await walCounters(pool)).fsyncs - walBefore.fsyncs;
    const statements = databaseOptions.statementStats
      ? `${await statementProfile(pool, 25)}\n… by calls:\n${await statementProfile(pool, 15, undefined, "calls")}`
      : undefined;
    await sleep(1000); // a late duplicate would show up here
    receiver.send("report");
    report = (await receiver.next()) as typeof report;

    const { rows: losses } = await pool.query<{ n: number; first: string; last: string }>(
      `SELECT count(*)::int AS n, (extract(epoch FROM min(occurred_at)) * 1000)::text AS first, (extract(epoch FROM max(occurred_at)) * 1000)::text AS last
       FROM entity_changes WHERE kind = 'satellite-connection' AND next ->> 'lastEvent' = 'heartbeat_lost' AND occurred_at >= to_timestamp($1 / 1000.0)`,
      [silencedAt],
    );
    // Losses recorded while the fleet still heartbeated: an overloaded machine delaying heartbeats past the threshold.
    const { rows: falseAlarms } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM entity_changes
       WHERE kind = 'satellite-connection' AND next ->> 'lastEvent' = 'heartbeat_lost' AND occurred_at < to_timestamp($1 / 1000.0)`,
      [silencedAt],
    );
    const { rows: runs } = await pool.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM automation_runs WHERE automation_id = $1 AND created_at >= to_timestamp($2 / 1000.0) GROUP BY status",
      [automationId, silencedAt],
    );
    // When the router had admitted the last run: the rest of the drain is the executors'.
    const { rows: routed } = await pool.query<{ last: string }>(
      "SELECT (extract(epoch FROM max(created_at)) * 1000)::text AS last FROM automation_runs WHERE automation_id = $1",
      [automationId],
    );
    const { rows: skips } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM automation_skips WHERE automation_id = $1", [automationId]);
    const firstLoss = Number(losses[0]!.first);
    const drainStart = hostSamples.findLast((sample) => sample.at <= firstLoss) ?? hostSamples[0]!;
    const drainEnd = hostSamples.at(-1)!;
    return {
      cores: coreCount,
      connectPerSecond: perSecond,
      lossesRecorded: losses[0]!.n,
      falseAlarms: falseAlarms[0]!.n,
      lossSpanMs: Number(losses[0]!.last) - firstLoss,
      routedMs: Number(routed[0]!.last) - firstLoss,
      drainMs: report.lastAt - firstLoss,
      received: report.received,
      distinct: report.distinct,
      duplicates: report.duplicates,
      runsSucceeded: runs.find((row) => row.status === "succeeded")?.n ?? 0,
      runsOther: runs.filter((row) => row.status !== "succeeded").reduce((sum, row) => sum + row.n, 0),
      skips: skips[0]!.n,
      coreCpuSeconds,
      databaseCpuSeconds,
      loadBefore,
      loadAfter,
      hostBusyShare: (drainEnd.busy - drainStart.busy) / Math.max(drainEnd.total - drainStart.total, 1),
      hostBusyMs: drainEnd.busy - drainStart.busy,
      transactions,
      walFlushes,
      waits: waited,
      statements,
      database: database.describe,
    };
  } finally {
    for (const child of children.reverse()) await stopChild(child.process);
    await pool.end();
    await database.close();
  }
}

const receiver = startChild([RECEIVER]);
const { port } = (await receiver.next()) as { port: number };
const outcomes: Outcome[] = [];
try {
  for (const cores of values.cores.split(",").map(Number)) outcomes.push(await runScenario(cores, receiver, `http://127.0.0.1:${port}/hook`));
} finally {
  await stopChild(receiver.process);
}

console.log(
  `mass-outage: ${fleetSize} satellites (heartbeat ${heartbeatMs} ms, threshold ${thresholdMs} ms) all silent at once; one automation ` +
    `(parallel, per satellite) with one webhook to a receiver in another process; ${historyCount} past runs seeded, the run and satellite tables analyzed; ${os.cpus().length} CPUs; ${outcomes[0]?.database ?? ""}`,
);
console.log(
  table(
    outcomes.map((o) => ({
      cores: o.cores,
      "losses recorded": o.lossesRecorded,
      "false alarms before": o.falseAlarms,
      "first → last loss s": (o.lossSpanMs / 1000).toFixed(1),
      "first loss → last run admitted s": (o.routedMs / 1000).toFixed(1),
      "first loss → last webhook s": (o.drainMs / 1000).toFixed(1),
      "runs/s": Math.round((o.distinct / o.drainMs) * 1000),
      "runs/s per core": Math.round((o.distinct / o.drainMs / o.cores) * 1000),
      "core CPU ms/run": ((o.coreCpuSeconds * 1000) / Math.max(o.distinct, 1)).toFixed(2),
      "db CPU ms/run": o.databaseCpuSeconds === null ? "n/a" : ((o.databaseCpuSeconds * 1000) / Math.max(o.distinct, 1)).toFixed(2),
      "host CPU ms/run": (o.hostBusyMs / Math.max(o.distinct, 1)).toFixed(2),
      "host busy %": Math.round(o.hostBusyShare * 100),
      "db tx/run": (o.transactions / Math.max(o.distinct, 1)).toFixed(1),
      "WAL flushes/run": (o.walFlushes / Math.max(o.distinct, 1)).toFixed(2),
      webhooks: o.received,
      missing: fleetSize - o.distinct,
      duplicates: o.duplicates,
      "runs ok / other / skipped": `${o.runsSucceeded} / ${o.runsOther} / ${o.skips}`,
      "connects/s": Math.round(o.connectPerSecond),
      load: `${o.loadBefore.toFixed(0)}→${o.loadAfter.toFixed(0)}`,
    })),
  ),
);
for (const o of outcomes) {
  console.log(
    `${o.cores} core(s), database sessions by wait (mean): ${o.waits
      .slice(0, 8)
      .map(([wait, n]) => `${wait} ${n.toFixed(1)}`)
      .join(", ")}`,
  );
}
for (const o of outcomes) {
  if (o.statements) console.log(`${o.cores} core(s), statements by database time during the drain:\n${o.statements}`);
}
