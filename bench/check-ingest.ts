// Check results: results/s through the real ingest path (the batcher → ingestResults, one
// INSERT with its dirty-minute CTE per batch) beside a raw `INSERT … SELECT FROM unnest` of the
// same rows on the same database; then resends through the real path (marked and not, untimed),
// the rollup worker catching up, and the stats reads (a page of checks' uptime bars, one
// check's latency series) over generated rollups.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type pg from "pg";
import { Registry } from "prom-client";
import { type CheckResultInput, checkStats, DEFAULT_RESULT_RETENTION, uptimeBars } from "../packages/server/src/checks/index.ts";
import { barsQuery, type RollupQuery, seriesQuery } from "../packages/server/src/checks/results/reads/check-stats.ts";
import { createPartitionCatalog, DAY_MS } from "../packages/server/src/checks/results/partitions.ts";
import { createResultIngest } from "../packages/server/src/checks/results/ingest/result-ingest.ts";
import { createRollupWorker } from "../packages/server/src/checks/results/maintenance/rollup-worker.ts";
import { createResultMetrics } from "../packages/server/src/checks/results/result-metrics.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, parseSettings, table, throughput } from "./_database.ts";
import { postmasterOf, processTreeCpuSeconds } from "./_process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    // Results awaiting their outcome at once (sockets and schedulers each await theirs).
    submitters: { type: "string", default: "4000" },
    batch: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "2" },
    checks: { type: "string", default: "10000" },
    locations: { type: "string", default: "3" },
    // Minute rollups of every check (hours); the series' own check gets 7 days of them.
    "minute-hours": { type: "string", default: "2" },
    // Hour rollups of every check (days); the series' own check gets 90 days of them.
    "hour-days": { type: "string", default: "2" },
    // Checks written beside the series' check over its long ranges: rows are written a bucket of
    // every check at a time, so 20 neighbours already put each of its buckets on a page of its own.
    neighbours: { type: "string", default: "20" },
    // Day rollups of every check (days).
    "day-days": { type: "string", default: "90" },
    repeats: { type: "string", default: "20" },
    "skip-reads": { type: "boolean", default: false },
    // PostgreSQL server settings for the bench's embedded server (`name=value`, repeatable).
    "pg-setting": { type: "string", multiple: true },
  },
});
const ms = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
const submitters = Number(values.submitters);
const maxBatch = Number(values.batch);
const checkCount = Number(values.checks);
const locations = Array.from({ length: Number(values.locations) }, (_, i) => (i === 0 ? "core" : randomUUID()));

const database = await openBenchDatabase({ settings: parseSettings(values["pg-setting"]) });
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: 8 });
const partitions = createPartitionCatalog({ pool, logger });
const now = Date.now();
await partitions.ensure("raw", [now - DAY_MS, now, now + DAY_MS]);
const context = { partitions, retention: DEFAULT_RESULT_RETENTION, now: () => now };

const checkIdOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
// A typical passing HTTP result's detail: timings and assertion verdicts, no excerpt.
const detail = {
  http: { statusCode: 200, timings: { dns: 1.2, connect: 8.4, tls: 21.7, firstByte: 41.3, total: 44.9 } },
  assertions: [{ subject: "status", op: "eq", value: 200, pass: true }],
};
let sequence = 0;
const nextResult = (): CheckResultInput => {
  const i = sequence++;
  return {
    resultId: randomUUID(),
    checkId: checkIdOf(i % checkCount),
    location: locations[i % locations.length]!,
    startedAt: new Date(now - (i % 60_000)).toISOString(),
    durationMs: 20 + (i % 400),
    status: i % 97 === 0 ? "down" : "up",
    statusCode: 200,
    detail,
  };
};

// The baseline: the same columns in one plain INSERT per batch, no dedupe report, no markers.
const RAW_INSERT = `
  INSERT INTO check_results (check_id, location, started_at, result_id, status, duration_ms, status_code, error_code, detail)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[], $5::text[], $6::integer[], $7::smallint[], $8::text[], $9::jsonb[])
  ON CONFLICT DO NOTHING`;
const rawBatch = async () => {
  const rows = Array.from({ length: maxBatch }, nextResult);
  await pool.query(RAW_INSERT, [
    rows.map((r) => r.checkId),
    rows.map((r) => r.location),
    rows.map((r) => r.startedAt),
    rows.map((r) => r.resultId),
    rows.map((r) => r.status),
    rows.map((r) => r.durationMs),
    rows.map((r) => r.statusCode ?? null),
    rows.map(() => null),
    rows.map((r) => JSON.stringify(r.detail)),
  ]);
};

// CPU per result of each side, from /proc and process.cpuUsage(): on a shared machine the rate
// follows the CPU a run got, the CPU per result much less so.
const {
  rows: [backend],
} = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
const postmaster = postmasterOf(backend!.pid);
const serverCpu = () => (postmaster === null ? Number.NaN : processTreeCpuSeconds(postmaster));
const nodeCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
// WAL written per result, from the server's insert position: the rounds run one path at a time,
// so what the server wrote meanwhile is that path's (plus the little autovacuum adds).
const walBytes = async () => Number((await pool.query<{ at: string }>("SELECT pg_current_wal_lsn() - '0/0' AS at")).rows[0]!.at);
const cpuSpent = { raw: { node: 0, server: 0, wal: 0, results: 0 }, real: { node: 0, server: 0, wal: 0, results: 0 } };
const measured = async (path: keyof typeof cpuSpent, run: () => Promise<number>): Promise<number> => {
  const [node, server, wal] = [nodeCpu(), serverCpu(), await walBytes()];
  const started = performance.now();
  const rate = await run();
  cpuSpent[path].node += nodeCpu() - node;
  cpuSpent[path].server += serverCpu() - server;
  cpuSpent[path].wal += (await walBytes()) - wal;
  cpuSpent[path].results += (rate * (performance.now() - started)) / 1000;
  return rate;
};
const cpuMs = (path: keyof typeof cpuSpent, side: "node" | "server") => ((cpuSpent[path][side] * 1000) / cpuSpent[path].results).toFixed(4);
const walPerResult = (path: keyof typeof cpuSpent) => Math.round(cpuSpent[path].wal / cpuSpent[path].results);

// With the product's metrics: they say how many batches held a resend they did not expect.
const registry = new Registry();
const ingest = createResultIngest({
  pool,
  logger,
  context,
  maxBatch,
  maxDelayMs: 5,
  concurrency: Number(values.concurrency),
  metrics: createResultMetrics(registry),
});
const counted = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((sum, value) => sum + value.value, 0);
const redoneBatches = () => counted("vantage_check_result_ingest_unmarked_resend_batches_total");
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const raws: number[] = [];
const reals: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternating short rounds: drift on a shared machine hits both alike.
  raws.push(await measured("raw", async () => (await throughput(Number(values.concurrency), ms, rawBatch)) * maxBatch));
  reals.push(await measured("real", () => throughput(submitters, ms, async () => void (await ingest.submit(nextResult())))));
}
const redoneInRounds = await redoneBatches();
// Resends, untimed: half a batch of stored results sent again among as many new ones, marked
// (an agent that marks what it sends again) and not (an older agent, or a batch redone after a
// core died between its commit and its ack: its plain insert fails and the batch is redone).
const resends = [];
for (const marked of [true, false]) {
  const old = Array.from({ length: Math.ceil(maxBatch / 2) }, nextResult);
  await Promise.all(old.map((result) => ingest.submit(result)));
  const [redone, duplicates] = [await redoneBatches(), await counted("vantage_check_results_duplicate_total")];
  const mixed = old.flatMap((result) => [{ ...result, resend: marked || undefined }, nextResult()]);
  const started = performance.now();
  const outcomes = await Promise.all(mixed.map((result) => ingest.submit(result)));
  resends.push({
    resends: marked ? "marked" : "not marked",
    results: mixed.length,
    stored: outcomes.filter((outcome) => outcome === "stored").length,
    duplicates: (await counted("vantage_check_results_duplicate_total")) - duplicates,
    "batches redone": (await redoneBatches()) - redone,
    ms: (performance.now() - started).toFixed(1),
  });
}
await ingest.stop();
const raw = median(raws);
const real = median(reals);
const {
  rows: [dirty],
} = await pool.query<{ n: string; minutes: string }>("SELECT count(*) AS n, count(DISTINCT (check_id, location, minute)) AS minutes FROM check_rollup_dirty");
const rollups = createRollupWorker({ pool, logger, partitions });
const rollupStarted = performance.now();
const pass = await rollups.runOnce();
const rollupSeconds = (performance.now() - rollupStarted) / 1000;

console.log(`check-ingest: ${database.describe}; medians of ${rounds} alternating ${values.seconds} s rounds`);
console.log(
  `ingest: ${submitters} concurrent submitters, batches of at most ${maxBatch}, ${values.concurrency} in flight; raw: ${values.concurrency} connections each inserting ${maxBatch} rows per statement`,
);
console.log(
  table([
    {
      path: "raw INSERT … SELECT FROM unnest",
      "results/s": Math.round(raw),
      "vs raw": "1.00",
      "node CPU ms/result": cpuMs("raw", "node"),
      "PostgreSQL CPU ms/result": cpuMs("raw", "server"),
      "WAL bytes/result": walPerResult("raw"),
    },
    {
      path: "batcher → ingestResults",
      "results/s": Math.round(real),
      "vs raw": (real / raw).toFixed(2),
      "node CPU ms/result": cpuMs("real", "node"),
      "PostgreSQL CPU ms/result": cpuMs("real", "server"),
      "WAL bytes/result": walPerResult("real"),
    },
  ]),
);
console.log(`batches that held a resend not marked (redone skipping resends) during the timed rounds: ${redoneInRounds}`);
console.log(table(resends));
console.log(
  `rollup worker: ${pass.markers} dirty markers (${dirty!.minutes} distinct minutes) → ${pass.minutes} minutes, their hours and days in ${rollupSeconds.toFixed(2)} s (${Math.round(pass.minutes / rollupSeconds)} minutes/s)`,
);

if (!values["skip-reads"]) await benchReads(pool);
await pool.end();
await database.close();

async function benchReads(db: pg.Pool): Promise<void> {
  const hour = Math.floor(now / 3_600_000) * 3_600_000;
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  const minuteHours = Number(values["minute-hours"]);
  const hourDays = Number(values["hour-days"]);
  const dayDays = Number(values["day-days"]);
  const span = (level: "1m" | "1h" | "1d", from: number, to: number) => {
    const step = { "1m": 60_000, "1h": 3_600_000, "1d": DAY_MS }[level];
    const times: number[] = [];
    for (let at = from; at <= to; at += DAY_MS) times.push(at);
    times.push(to);
    return { step, times };
  };
  const generated: Array<Record<string, string | number>> = [];
  // Rows are generated time-major (a bucket of every check, then the next bucket), as the rollup
  // worker writes them: one check's range is then spread over many heap pages, as in production.
  // Four latency shapes, so histograms differ between rows as they do in life.
  const hist = (shape: number) => {
    const buckets = new Array<number>(29).fill(0);
    const first = [7, 8, 10, 12][shape]!;
    [buckets[first], buckets[first + 1], buckets[first + 2]] = [2, 6, 1];
    return `{${buckets.join(",")}}`;
  };
  const generate = async (level: "1m" | "1h" | "1d", checks: [number, number], from: number, to: number) => {
    const { step, times } = span(level, from, to);
    await partitions.ensure(level, times);
    const started = performance.now();
    const { rowCount } = await db.query(
      `INSERT INTO check_rollups_${level} (check_id, bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist)
       SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, b, l,
         10, 9, 0, 1, 0, 9 * (30 + 10 * ((n + l_n) % 4)), 15, 120,
         (CASE (n + l_n) % 4 WHEN 0 THEN $7 WHEN 1 THEN $8 WHEN 2 THEN $9 ELSE $10 END)::integer[]
       FROM generate_series($3::timestamptz, $4::timestamptz, make_interval(secs => $5)) AS b
         CROSS JOIN LATERAL generate_series($1::integer, $2::integer) AS n
         CROSS JOIN LATERAL unnest($6::text[]) WITH ORDINALITY AS loc(l, l_n)`,
      [checks[0], checks[1], new Date(from).toISOString(), new Date(to - step).toISOString(), step / 1000, locations, hist(0), hist(1), hist(2), hist(3)],
    );
    generated.push({
      level,
      checks: checks[1] - checks[0] + 1,
      "from (days ago)": ((now - from) / DAY_MS).toFixed(1),
      rows: rowCount ?? 0,
      seconds: ((performance.now() - started) / 1000).toFixed(1),
    });
  };
  const neighbours = Number(values.neighbours);
  await generate("1m", [0, checkCount - 1], hour - minuteHours * 3_600_000, hour);
  await generate("1m", [checkCount, checkCount + neighbours], day - 7 * DAY_MS, hour);
  await generate("1h", [0, checkCount - 1], hour - hourDays * DAY_MS, hour);
  await generate("1h", [checkCount, checkCount + neighbours], day - 90 * DAY_MS, hour);
  await generate("1d", [0, checkCount - 1], day - dayDays * DAY_MS, day);
  // What autovacuum does to settled partitions: the visibility map lets bars skip the heap.
  await db.query("VACUUM ANALYZE check_rollups_1m, check_rollups_1h, check_rollups_1d");
  const { rows: sizes } = await db.query<{ level: string; size: string }>(
    `SELECT t AS level, pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) AS size
     FROM unnest('{check_rollups_1m,check_rollups_1h,check_rollups_1d}'::text[]) t JOIN pg_inherits i ON i.inhparent = t::regclass GROUP BY t ORDER BY t`,
  );

  const repeats = Number(values.repeats);
  const timeIt = async (fn: () => Promise<unknown>) => {
    await fn();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      await fn();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)] ?? times.at(-1)! };
  };
  const page = Array.from({ length: 100 }, (_, i) => checkIdOf(Math.floor((i * checkCount) / 100)));
  const series = checkIdOf(checkCount);
  const readNow = { now: () => now };
  const bars = (from: number, to: number, buckets: number) => ({ from, to, buckets });
  const reads: Array<{ name: string; read: () => Promise<unknown>; query: RollupQuery; describe: (result: unknown) => string }> = [
    {
      name: "24 h bars, page of 100 checks (24 segments)",
      read: () => uptimeBars(db, page, bars(hour - DAY_MS, hour, 24), readNow),
      query: barsQuery(page, bars(hour - DAY_MS, hour, 24), readNow),
      describe: describeBars,
    },
    {
      name: "90 d bars, page of 100 checks (90 segments)",
      read: () => uptimeBars(db, page, bars(day - 89 * DAY_MS, day + DAY_MS, 90), readNow),
      query: barsQuery(page, bars(day - 89 * DAY_MS, day + DAY_MS, 90), readNow),
      describe: describeBars,
    },
    {
      name: "90 d latency series, one check",
      read: () => checkStats(db, series, { from: hour - 90 * DAY_MS, to: hour }, readNow),
      query: seriesQuery(series, { from: hour - 90 * DAY_MS, to: hour }, readNow),
      describe: describeStats,
    },
    {
      name: "7 d latency series, one check",
      read: () => checkStats(db, series, { from: hour - 7 * DAY_MS, to: hour }, readNow),
      query: seriesQuery(series, { from: hour - 7 * DAY_MS, to: hour }, readNow),
      describe: describeStats,
    },
    {
      name: "24 h stats, one check",
      read: () => checkStats(db, series, { from: hour - DAY_MS, to: hour }, readNow),
      query: seriesQuery(series, { from: hour - DAY_MS, to: hour }, readNow),
      describe: describeStats,
    },
  ];
  const rows: Array<Record<string, string | number>> = [];
  for (const { name, read, query, describe } of reads) {
    const { median: med, p95 } = await timeIt(read);
    // The server's side, independent of this process: execution time and 8 KiB pages touched.
    const [explained] = (
      await db.query<{ "QUERY PLAN": Array<{ Plan: Record<string, number>; "Execution Time": number }> }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.sql}`,
        query.params,
      )
    ).rows[0]!["QUERY PLAN"];
    rows.push({
      read: name,
      "median ms": med.toFixed(1),
      "p95 ms": p95.toFixed(1),
      "server ms": explained!["Execution Time"].toFixed(1),
      pages: explained!.Plan["Shared Hit Blocks"]! + explained!.Plan["Shared Read Blocks"]!,
      what: describe(await read()),
    });
  }
  console.log(`\nrollups generated (${locations.length} locations each):`);
  console.log(table(generated));
  console.log(`sizes: ${sizes.map((size) => `${size.level} ${size.size}`).join(", ")}`);
  console.log(`\nreads (${repeats} repeats, warm):`);
  console.log(table(rows));
}

function describeBars(result: unknown): string {
  return `level ${(result as { level: string }).level}`;
}

function describeStats(result: unknown): string {
  const stats = result as Awaited<ReturnType<typeof checkStats>>;
  return `level ${stats.level}, step ${stats.stepSeconds} s, ${stats.locations.length} × ${stats.locations[0]?.series.length ?? 0} points`;
}
