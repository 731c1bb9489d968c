// HTTP checks per second on the core location: a real `vantage server` child process running
// N http checks (inserted in one statement; the schedule's triggers give each a slot) against a
// local target on 127.0.0.1, beside a bare loop making the same requests through the same
// outbound client at the scheduler's concurrency, before and after it in the same run. Prints
// results/s (stored rows) and those `up`, CPU per result, the scheduler's lag, and the load
// average by each.
import { type ChildProcess, spawn } from "node:child_process";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkDefinitionSchema } from "@vantage/protocol";
import pg from "pg";
import { DEFAULT_CORE_CONCURRENCY } from "../packages/server/src/checks/scheduling/core-scheduler.ts";
import { findFreePort } from "../packages/server/src/storage/postgres/embedded-postgres.ts";
import { openBenchDatabase, resetStatementStats, statementProfile, table } from "./_database.ts";
import { jsonLines, postmasterOf, processTreeCpuSeconds, sampleProcess, stopChild } from "./_process.ts";

const { values } = parseArgs({
  options: {
    // 30,000 checks every 10 s offer 3,000 runs/s: above the goal, so the core shows whether it keeps up.
    checks: { type: "string", default: "30000" },
    "interval-seconds": { type: "string", default: "10" },
    "timeout-ms": { type: "string", default: "5000" },
    /**
     * The measured window, after the warm-up: until every check has its health's first state
     * (its first result: a one-off per check that records an entity change, which check-health
     * measures), at least one interval and at most --max-warmup-intervals.
     */
    seconds: { type: "string", default: "20" },
    /** The bare loop's requests in flight; the core's scheduler runs at most DEFAULT_CORE_CONCURRENCY. */
    concurrency: { type: "string", default: String(DEFAULT_CORE_CONCURRENCY) },
    "max-warmup-intervals": { type: "string", default: "6" },
    /** Writes a V8 CPU profile of the core process into this folder when it exits. */
    "cpu-prof-dir": { type: "string" },
    /** Measures the core alone (no bare loop before and after): for A/B runs of two builds of the core, compared by CPU per result. */
    "skip-bare": { type: "boolean", default: false },
    /** Prints the statements that took PostgreSQL's time over the window (preloads pg_stat_statements; embedded server only). */
    "statement-stats": { type: "boolean", default: false },
  },
});
const checkCount = Number(values.checks);
const intervalSeconds = Number(values["interval-seconds"]);
const timeoutMs = Number(values["timeout-ms"]);
const windowMs = Number(values.seconds) * 1000;
const concurrency = Number(values.concurrency);

const VANTAGE_BIN = fileURLToPath(new URL("../packages/server/bin/vantage.js", import.meta.url));
const HTTP_TARGET = fileURLToPath(new URL("./_http-target.ts", import.meta.url));
const BARE_LOOP = fileURLToPath(new URL("./_bare-check-loop.ts", import.meta.url));
/**
 * The runtime the core is started with (package.json's `start`, the bin's shebang): a larger
 * young generation, so the objects of the runs in flight die there instead of being copied
 * and promoted. The bare loop gets the same, so the ratio compares code, not flags.
 * BENCH_NODE_FLAGS replaces them (e.g. "" to measure without).
 */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "--max-semi-space-size=64").split(" ").filter(Boolean);

const load = () => loadavg()[0]!.toFixed(1);
/** Where the run is, on stderr: a long run shows it is moving. */
const progress = (phase: string) => process.stderr.write(`… ${phase} (load ${load()})\n`);

interface Measured {
  path: string;
  perSecond: number;
  /** Results that were `up` per second: an overloaded machine turns runs into timeouts. */
  upPerSecond: number;
  cpuMsPerResult: number;
  cpuPercent: number;
  failed: number;
  /** The not-up results by why: the outbound failure kind (bare) or the result's error code (core). */
  why: Record<string, number>;
  load: string;
}

async function runBareLoop(url: string): Promise<Measured> {
  const child = spawn(process.execPath, [...NODE_FLAGS, "--import", "tsx", BARE_LOOP], {
    env: { ...process.env, TARGET_URL: url, CONCURRENCY: String(concurrency), SECONDS: String(windowMs / 1000), TIMEOUT_MS: String(timeoutMs) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const report = await jsonLines(child)();
  const loadAfter = load();
  await stopChild(child);
  const { requests, failures, seconds, cpuSeconds, failuresByKind } = report as {
    requests: number;
    failures: number;
    seconds: number;
    cpuSeconds: number;
    failuresByKind: Record<string, number>;
  };
  const done = requests + failures;
  return {
    path: "bare loop (outbound client)",
    perSecond: done / seconds,
    upPerSecond: requests / seconds,
    cpuMsPerResult: (cpuSeconds * 1000) / done,
    cpuPercent: (cpuSeconds / seconds) * 100,
    failed: failures,
    why: failuresByKind,
    load: loadAfter,
  };
}

/** Sums of a counter or histogram series in a Prometheus text exposition, by name. */
async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const name = line.slice(0, line.search(/[{ ]/));
    sums.set(name, (sums.get(name) ?? 0) + Number(line.split(" ").at(-1)));
  }
  return sums;
}

async function countResults(pool: pg.Pool): Promise<{ total: number; failed: number; why: Map<string, number> }> {
  const { rows } = await pool.query<{ why: string | null; n: number }>(
    "SELECT CASE WHEN status = 'up' THEN NULL ELSE status || ':' || coalesce(error_code, '-') END AS why, count(*)::int AS n FROM check_results WHERE location = 'core' GROUP BY 1",
  );
  const why = new Map(rows.filter((row) => row.why !== null).map((row): [string, number] => [row.why!, row.n]));
  const failed = [...why.values()].reduce((a, b) => a + b, 0);
  return { total: rows.reduce((sum, row) => sum + row.n, 0), failed, why };
}

/** Where a core's runs spend their time, from its metrics over the window: what bounds its concurrency. */
interface CoreDiagnosis {
  /** The PostgreSQL server's CPU (postmaster and backends) per result stored, when it runs on this machine. */
  databaseCpuMsPerResult: number | null;
  lagMs: number;
  claimsPerSecond: number;
  claimMs: number;
  runsPerClaim: number;
  batchesPerSecond: number;
  batchMs: number;
  resultsPerBatch: number;
  inFlight: number;
  storing: number;
}

/** Checks whose health has its first state (a row in check_health): they have had a result. */
async function firstStates(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM check_health");
  return rows[0]!.n;
}

let warmup = { seconds: 0, firstStates: 0 };
/** pg_stat_statements over the window (--statement-stats). */
let statements = "";

/** CPU seconds so far of the PostgreSQL server behind `pool` (null when it runs elsewhere). */
async function databaseCpu(pool: pg.Pool): Promise<(() => number) | null> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = postmasterOf(rows[0]!.pid);
  return postmaster === null ? null : () => processTreeCpuSeconds(postmaster);
}

async function runCore(databaseUrl: string, pool: pg.Pool, targetUrl: string): Promise<Measured & CoreDiagnosis & { offered: number }> {
  const port = await findFreePort();
  const profile = values["cpu-prof-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof-dir"]}`] : [];
  const core: ChildProcess = spawn(
    process.execPath,
    [...NODE_FLAGS, ...profile, VANTAGE_BIN, "server", "--port", String(port), "--log-format", "json", "--log-level", "warn"],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let ready = false; !ready;) {
      ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await sleep(200);
    }
    // One statement: the schedule's triggers give every check a slot at a random offset within its interval.
    const definition = checkDefinitionSchema.parse({ name: "bench", type: "http", url: targetUrl, intervalSeconds, timeoutMs });
    const inserted = performance.now();
    await pool.query(
      `INSERT INTO checks (name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
       SELECT 'bench-' || g, 'http', true, $2, $3, '{}', true, NULL, jsonb_set($1::jsonb, '{name}', to_jsonb('bench-' || g))
       FROM generate_series(1, $4) AS g`,
      [JSON.stringify(definition), intervalSeconds, timeoutMs, checkCount],
    );
    progress(`core: ${checkCount} checks inserted in ${((performance.now() - inserted) / 1000).toFixed(1)} s; warming up`);
    const warmupStarted = performance.now();
    const warmupUntil = warmupStarted + Number(values["max-warmup-intervals"]) * intervalSeconds * 1000;
    await sleep(intervalSeconds * 1000 + 2_000);
    for (let first = await firstStates(pool); first < checkCount && performance.now() < warmupUntil; first = await firstStates(pool)) await sleep(1_000);
    warmup = { seconds: (performance.now() - warmupStarted) / 1000, firstStates: await firstStates(pool) };

    progress("core: measuring");
    if (values["statement-stats"]) await resetStatementStats(pool);
    const serverCpu = await databaseCpu(pool);
    const before = {
      results: await countResults(pool),
      cpu: sampleProcess(core.pid!),
      db: serverCpu?.() ?? 0,
      metrics: await metrics(url),
      at: performance.now(),
    };
    await sleep(windowMs);
    const after = {
      results: await countResults(pool),
      cpu: sampleProcess(core.pid!),
      db: serverCpu?.() ?? 0,
      metrics: await metrics(url),
      at: performance.now(),
    };
    if (values["statement-stats"]) statements = await statementProfile(pool, 12);
    const seconds = (after.at - before.at) / 1000;
    const results = after.results.total - before.results.total;
    const failed = after.results.failed - before.results.failed;
    const cpuSeconds = after.cpu.cpuSeconds - before.cpu.cpuSeconds;
    const delta = (name: string) => (after.metrics.get(name) ?? 0) - (before.metrics.get(name) ?? 0);
    const meanMs = (histogram: string) => (delta(`${histogram}_sum`) / Math.max(1, delta(`${histogram}_count`))) * 1000;
    const claims = delta("vantage_check_schedule_claim_seconds_count");
    const batches = delta("vantage_check_result_ingest_batch_duration_seconds_count");
    return {
      path: "core process (scheduler → probe → ingest)",
      perSecond: results / seconds,
      upPerSecond: (results - failed) / seconds,
      cpuMsPerResult: (cpuSeconds * 1000) / Math.max(1, results),
      cpuPercent: (cpuSeconds / seconds) * 100,
      failed,
      why: Object.fromEntries([...after.results.why].map(([key, n]) => [key, n - (before.results.why.get(key) ?? 0)]).filter(([, n]) => Number(n) > 0)),
      load: load(),
      databaseCpuMsPerResult: serverCpu ? ((after.db - before.db) * 1000) / Math.max(1, results) : null,
      lagMs: meanMs("vantage_check_scheduler_lag_seconds"),
      claimsPerSecond: claims / seconds,
      claimMs: meanMs("vantage_check_schedule_claim_seconds"),
      runsPerClaim: delta("vantage_check_scheduler_lag_seconds_count") / Math.max(1, claims),
      batchesPerSecond: batches / seconds,
      batchMs: meanMs("vantage_check_result_ingest_batch_duration_seconds"),
      resultsPerBatch: delta("vantage_check_result_ingest_batch_size_sum") / Math.max(1, batches),
      inFlight: after.metrics.get("vantage_check_runs_in_flight") ?? 0,
      storing: after.metrics.get("vantage_check_runs_storing") ?? 0,
      offered: checkCount / intervalSeconds,
    };
  } finally {
    await stopChild(core);
  }
}

async function main() {
  const database = await openBenchDatabase({ statementStats: values["statement-stats"] });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const target = spawn(process.execPath, ["--import", "tsx", HTTP_TARGET], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const { port } = (await jsonLines(target)()) as { port: number };
    const targetUrl = `http://127.0.0.1:${port}/health`;
    console.log(
      `check-throughput: ${checkCount} http checks every ${intervalSeconds} s on one core process, ${windowMs / 1000} s windows; bare loop at ${concurrency} in flight; node flags: ${NODE_FLAGS.join(" ") || "none"}; ${database.describe}`,
    );
    const skipBare = values["skip-bare"];
    if (!skipBare) progress("bare loop");
    const bareBefore = skipBare ? null : await runBareLoop(targetUrl);
    const core = await runCore(database.url, pool, targetUrl);
    if (!skipBare) progress("bare loop again");
    const bareAfter = skipBare ? null : await runBareLoop(targetUrl);
    // Without the bare loop, "vs bare" reads against the core itself (1.00).
    const bare = bareBefore && bareAfter ? (bareBefore.perSecond + bareAfter.perSecond) / 2 : core.perSecond;
    const bareUp = bareBefore && bareAfter ? (bareBefore.upPerSecond + bareAfter.upPerSecond) / 2 : core.upPerSecond;
    const row = (m: Measured) => ({
      path: m.path,
      "results/s": Math.round(m.perSecond),
      "vs bare": (m.perSecond / bare).toFixed(2),
      "up/s": Math.round(m.upPerSecond),
      "up vs bare": (m.upPerSecond / bareUp).toFixed(2),
      "CPU ms/result": m.cpuMsPerResult.toFixed(3),
      "CPU %": m.cpuPercent.toFixed(0),
      "not up": m.failed,
      load: m.load,
    });
    console.log(table([bareBefore, core, bareAfter].filter((m): m is Measured => m !== null).map(row)));
    const whyOf = (m: Measured) =>
      Object.entries(m.why)
        .map(([key, n]) => `${key} ${n}`)
        .join(", ") || "none";
    console.log(
      bareBefore && bareAfter
        ? `not up, by why: bare before: ${whyOf(bareBefore)}; core: ${whyOf(core)}; bare after: ${whyOf(bareAfter)}`
        : `not up, by why: core: ${whyOf(core)}`,
    );
    console.log(
      `core: offered ${Math.round(core.offered)} runs/s (checks / interval), mean scheduler lag (slot → start) ${core.lagMs.toFixed(1)} ms; "vs bare" is against the mean of both bare runs`,
    );
    console.log(
      `core: PostgreSQL's CPU ${core.databaseCpuMsPerResult === null ? "n/a (not on this machine)" : `${core.databaseCpuMsPerResult.toFixed(3)} ms`} per result stored (postmaster and backends)`,
    );
    console.log(`core: warm-up ${warmup.seconds.toFixed(0)} s, after which ${warmup.firstStates} of ${checkCount} checks had their first result`);
    console.log(
      `core: ${core.claimsPerSecond.toFixed(1)} claims/s of ${core.runsPerClaim.toFixed(0)} runs, ${core.claimMs.toFixed(1)} ms each; ` +
        `${core.batchesPerSecond.toFixed(1)} ingest batches/s of ${core.resultsPerBatch.toFixed(0)} results, ${core.batchMs.toFixed(1)} ms each; at the end ${core.inFlight} runs probing, ${core.storing} results waiting for storage`,
    );
    if (statements) console.log(`PostgreSQL's statements over the window, by execution time:\n${statements}`);
  } finally {
    await stopChild(target);
    await pool.end();
    await database.close();
  }
}

await main();
