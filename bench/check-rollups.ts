// What the check results cost PostgreSQL per result in the steady state of bench/check-throughput,
// without the probes: --checks checks each with a result every --interval-seconds, on a virtual
// clock advancing 2 s per step; each step ingests the results of the checks due in it
// (ingestResults, batches of --batch), and a rollup pass runs every --pass-seconds (the
// worker's interval, 2 s by default). Prints
// the server's CPU (postmaster and backends, from /proc: the server must run on this machine)
// per result for the ingest statements and for the rollup passes, each measured alone (nothing
// else uses the database), so two builds compare by CPU, which a loaded machine disturbs far
// less than it disturbs rates.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type pg from "pg";
import { type CheckResultInput, DEFAULT_RESULT_RETENTION, ingestResults } from "../packages/server/src/checks/index.ts";
import { createPartitionCatalog, DAY_MS } from "../packages/server/src/checks/results/partitions.ts";
import { createRollupWorker } from "../packages/server/src/checks/results/maintenance/rollup-worker.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, table } from "./_database.ts";
import { postmasterOf, processTreeCpuSeconds } from "./_process.ts";

const { values } = parseArgs({
  options: {
    checks: { type: "string", default: "10000" },
    "interval-seconds": { type: "string", default: "10" },
    /** Virtual minutes simulated; the first is a warm-up (not counted). */
    minutes: { type: "string", default: "3" },
    /** Results per ingest statement: the core's batches under check-throughput hold ~130–250. */
    batch: { type: "string", default: "200" },
    /** A rollup pass every this many seconds of the virtual clock (the worker's interval; a multiple of 2). */
    "pass-seconds": { type: "string", default: "2" },
  },
});
const checkCount = Number(values.checks);
const intervalMs = Number(values["interval-seconds"]) * 1000;
const minutes = Number(values.minutes);
const batchSize = Number(values.batch);
const STEP_MS = 2000;
const passEvery = Math.max(1, Math.round((Number(values["pass-seconds"]) * 1000) / STEP_MS));

const database = await openBenchDatabase();
const logger = silentLogger();
const pool: pg.Pool = createPool(database.url, logger, { max: 2 });
try {
  const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const postmaster = postmasterOf(rows[0]!.pid);
  if (postmaster === null) throw new Error("check-rollups needs the PostgreSQL server on this machine (it reads its CPU from /proc)");
  const serverCpu = () => processTreeCpuSeconds(postmaster);
  const partitions = createPartitionCatalog({ pool, logger });
  // The virtual clock starts on a minute, `minutes` + 1 minutes ago, so every result is in the past.
  const start = Math.floor(Date.now() / 60_000) * 60_000 - (minutes + 1) * 60_000;
  await partitions.ensure("raw", [start - DAY_MS, start, start + DAY_MS]);
  const worker = createRollupWorker({ pool, logger, partitions });
  const checkIds = Array.from({ length: checkCount }, () => randomUUID());
  // Each check's offset within its interval: spread like the schedule's random slots.
  const offsets = checkIds.map((_, i) => Math.floor((i * intervalMs) / checkCount));
  const detail = { http: { statusCode: 200, timings: { connect: 0.4, firstByte: 1.1, total: 1.3 } } };
  const measured = { results: 0, ingestCpu: 0, rollupCpu: 0, passes: 0, minutes: 0 };
  const warmupSteps = 60_000 / STEP_MS;
  const steps = (minutes * 60_000) / STEP_MS;
  for (let step = 0; step < steps; step++) {
    const from = start + step * STEP_MS;
    const results: CheckResultInput[] = [];
    for (let i = 0; i < checkCount; i++) {
      const phase = (from - start) % intervalMs;
      const offset = offsets[i]!;
      if (offset < phase || offset >= phase + STEP_MS) continue;
      results.push({
        resultId: randomUUID(),
        checkId: checkIds[i]!,
        location: "core",
        startedAt: new Date(from + offset - phase).toISOString(),
        durationMs: 1 + (i % 7),
        status: i % 101 === 0 ? "down" : "up",
        statusCode: 200,
        detail,
      });
    }
    const context = { partitions, retention: DEFAULT_RESULT_RETENTION, now: () => from + STEP_MS };
    const counted = step >= warmupSteps;
    const beforeIngest = serverCpu();
    for (let at = 0; at < results.length; at += batchSize) await ingestResults(pool, results.slice(at, at + batchSize), context);
    const beforeRollup = serverCpu();
    const pass = (step + 1) % passEvery === 0 ? await worker.runOnce() : null;
    const after = serverCpu();
    if (!counted) continue;
    measured.results += results.length;
    measured.ingestCpu += beforeRollup - beforeIngest;
    measured.rollupCpu += after - beforeRollup;
    if (pass) measured.passes += 1;
    measured.minutes += pass?.minutes ?? 0;
  }
  const perResult = (seconds: number) => ((seconds * 1000) / measured.results).toFixed(3);
  console.log(
    `check-rollups: ${checkCount} checks every ${intervalMs / 1000} s, ${minutes - 1} virtual minutes measured (after one), ingest batches of ${batchSize}, a rollup pass every ${(passEvery * STEP_MS) / 1000} s; ${database.describe}`,
  );
  console.log(
    table([
      { part: "ingest statements", "server CPU s": measured.ingestCpu.toFixed(2), "ms per result": perResult(measured.ingestCpu) },
      {
        part: `rollup passes (${measured.passes}, ${Math.round(measured.minutes / measured.passes)} minutes each)`,
        "server CPU s": measured.rollupCpu.toFixed(2),
        "ms per result": perResult(measured.rollupCpu),
      },
      {
        part: "both",
        "server CPU s": (measured.ingestCpu + measured.rollupCpu).toFixed(2),
        "ms per result": perResult(measured.ingestCpu + measured.rollupCpu),
      },
    ]),
  );
  console.log(`${measured.results} results measured`);
} finally {
  await pool.end();
  await database.close();
}
