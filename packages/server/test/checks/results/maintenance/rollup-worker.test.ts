// Proves the rollups count every status exactly and bucket latency so percentiles hold at 1m,
// 1h and 1d, that a late result corrects its minute, hour and day, and that reruns change nothing.
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ingestResults } from "../../../../src/checks/index.ts";
import type { IngestContext } from "../../../../src/checks/results/ingest/ingest-results.ts";
import { histogramQuantile, sumHistogramsSql } from "../../../../src/checks/results/latency-histogram.ts";
import { createRollupWorker, type RollupWorker } from "../../../../src/checks/results/maintenance/rollup-worker.ts";
import { silentLogger } from "../../../../src/log.ts";
import { createResultsDatabase, ingestContext, makeResult, minuteAgo } from "../../../support/checks/check-results.ts";

let pool: pg.Pool;
let context: IngestContext;
let worker: RollupWorker;

beforeAll(async () => {
  pool = await createResultsDatabase("rollup-worker");
  context = ingestContext(pool);
  worker = createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions });
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query("TRUNCATE check_results, check_rollup_dirty, check_rollups_1m, check_rollups_1h, check_rollups_1d");
});

const ingest = (results: Parameters<typeof ingestResults>[1]) => ingestResults(pool, results, context);

interface Rollup {
  bucket: string;
  location: string;
  total: number;
  up: number;
  degraded: number;
  down: number;
  error: number;
  sum_ms: string;
  min_ms: number | null;
  max_ms: number | null;
  hist: number[];
}

async function rollups(level: "1m" | "1h" | "1d"): Promise<Rollup[]> {
  const { rows } = await pool.query<Rollup & { bucket: Date }>(
    `SELECT bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist FROM check_rollups_${level} ORDER BY bucket, location`,
  );
  return rows.map((row) => ({ ...row, bucket: row.bucket.toISOString() }));
}

const allLevels = async () => ({ m: await rollups("1m"), h: await rollups("1h"), d: await rollups("1d") });

// 20 answered runs in one minute: 1..20 ms, so p50 falls in [10, 15) and p95 in [15, 20).
const spreadIn = (minute: number, location = "core") =>
  Array.from({ length: 20 }, (_, i) => makeResult({ at: minute + i * 1000, durationMs: i + 1, location, status: i % 10 === 0 ? "degraded" : "up" }));

describe("the rollup worker", () => {
  it("counts statuses exactly and keeps a histogram whose percentiles are exact to the bucket at every level", async () => {
    const minute = minuteAgo(3);
    await ingest([
      ...spreadIn(minute),
      makeResult({ at: minute + 30_000, status: "down", durationMs: 10_000 }),
      makeResult({ at: minute + 40_000, status: "error", durationMs: 0 }),
      ...spreadIn(minute, "eu-1"),
    ]);

    expect(await worker.runOnce()).toMatchObject({ minutes: 2 });
    const { m, h, d } = await allLevels();
    expect(m).toHaveLength(2);
    const core = m.find((row) => row.location === "core")!;
    // Latency covers answered runs (up, degraded) only: the timeout and the error are counted, not timed.
    expect(core).toMatchObject({ total: 22, up: 18, degraded: 2, down: 1, error: 1, sum_ms: "210", min_ms: 1, max_ms: 20 });
    expect(core.hist.reduce((a, b) => a + b, 0)).toBe(20);
    expect(histogramQuantile(core.hist, 0.5, { minMs: core.min_ms, maxMs: core.max_ms })).toBe(15);
    expect(histogramQuantile(core.hist, 0.95, { minMs: core.min_ms, maxMs: core.max_ms })).toBe(20);
    // The hour and the day hold the same sums: one minute of data.
    const strip = (rows: Rollup[]) => rows.map(({ bucket: _bucket, ...rest }) => rest);
    expect(strip(h)).toEqual(strip(m));
    expect(strip(d)).toEqual(strip(m));
    expect(h[0]!.bucket).toBe(new Date(Math.floor(minute / 3_600_000) * 3_600_000).toISOString());
  });

  it("adds minutes into their hour element-wise, so the hour's percentiles are those of all its runs", async () => {
    // Two minutes of the same hour: fast runs in one, slow in the other.
    const hour = Math.floor(minuteAgo(0) / 3_600_000) * 3_600_000 - 3_600_000;
    const fast = Array.from({ length: 90 }, (_, i) => makeResult({ at: hour + 60_000 + i * 100, durationMs: 4 }));
    const slow = Array.from({ length: 10 }, (_, i) => makeResult({ at: hour + 120_000 + i * 100, durationMs: 400 }));
    await ingest([...fast, ...slow]);
    await worker.runOnce();

    const [hourRow] = await rollups("1h");
    expect(hourRow).toMatchObject({ total: 100, up: 100, sum_ms: String(90 * 4 + 10 * 400), min_ms: 4, max_ms: 400 });
    // 90 % of runs took 4 ms ([3, 5) bucket), the slowest 10 % 400 ms ([300, 500), capped at the max).
    expect(histogramQuantile(hourRow!.hist, 0.5, { minMs: 4, maxMs: 400 })).toBe(5);
    expect(histogramQuantile(hourRow!.hist, 0.9, { minMs: 4, maxMs: 400 })).toBe(5);
    expect(histogramQuantile(hourRow!.hist, 0.95, { minMs: 4, maxMs: 400 })).toBe(400);
  });

  it("corrects a minute, its hour and its day when a late result arrives, and running again changes nothing", async () => {
    const minute = minuteAgo(90);
    await ingest(spreadIn(minute));
    await worker.runOnce();
    const before = await allLevels();

    // A satellite cut off for an hour and a half delivers its buffered result.
    await ingest([makeResult({ at: minute + 59_000, status: "down", durationMs: 30_000 })]);
    expect(await worker.runOnce()).toMatchObject({ markers: 1, minutes: 1 });
    const after = await allLevels();
    for (const level of [after.m, after.h, after.d]) {
      expect(level).toHaveLength(1);
      expect(level[0]).toMatchObject({ total: 21, up: 18, degraded: 2, down: 1 });
    }
    expect(after.m[0]!.hist).toEqual(before.m[0]!.hist);

    // Nothing is dirty: a second pass does nothing.
    expect(await worker.runOnce()).toEqual({ markers: 0, minutes: 0 });
    expect(await allLevels()).toEqual(after);
    // Even recomputing the same minute again (a marker redelivered) gives the same rows.
    await pool.query("INSERT INTO check_rollup_dirty SELECT check_id, location, bucket FROM check_rollups_1m");
    await pool.query("INSERT INTO check_rollup_dirty SELECT check_id, location, bucket FROM check_rollups_1m");
    expect(await worker.runOnce()).toEqual({ markers: 2, minutes: 1 });
    expect(await allLevels()).toEqual(after);
  });

  it("keeps every hour and day equal to the sum of its minutes, pass after pass, as minutes fill and late results land", async () => {
    const hour = Math.floor(minuteAgo(0) / 3_600_000) * 3_600_000 - 2 * 3_600_000;
    const statuses = ["up", "up", "degraded", "down", "error"] as const;
    // Four passes; each adds runs to minutes of two hours, some already rolled up (late results).
    for (let pass = 0; pass < 4; pass++) {
      await ingest(
        Array.from({ length: 30 }, (_, i) =>
          makeResult({
            at: hour + ((i * 7 + pass * 13) % 90) * 60_000 + pass * 1_000 + i,
            durationMs: (i * 37 + pass * 101) % 2_000,
            status: statuses[(i + pass) % statuses.length],
            location: i % 3 === 0 ? "eu-1" : "core",
          }),
        ),
      );
      await worker.runOnce();
    }
    // Each hour and day recomputed from the level below, as the worker once wrote them.
    const sums = (source: string, unit: "hour" | "day") =>
      pool.query(`
        SELECT date_trunc('${unit}', bucket, 'UTC') AS bucket, location, sum(total)::int AS total, sum(up)::int AS up,
          sum(degraded)::int AS degraded, sum(down)::int AS down, sum(error)::int AS error, sum(sum_ms)::text AS sum_ms,
          min(min_ms) AS min_ms, max(max_ms) AS max_ms,
          ${sumHistogramsSql("hist")} AS hist
        FROM ${source} GROUP BY 1, 2 ORDER BY 1, 2`);
    const recomputed = async (source: string, unit: "hour" | "day") =>
      (await sums(source, unit)).rows.map((row: Record<string, unknown>) => ({ ...row, bucket: (row.bucket as Date).toISOString() }));
    const { m, h, d } = await allLevels();
    expect(m.reduce((sum, row) => sum + row.total, 0)).toBe(120);
    expect(h.length).toBeGreaterThan(1);
    expect(h).toEqual(await recomputed("check_rollups_1m", "hour"));
    expect(d).toEqual(await recomputed("check_rollups_1h", "day"));
  });

  it("adds counted markers without reading raw rows, and rebuilds a minute from raw rows when a marker has no counts, counting nothing twice", async () => {
    const minute = minuteAgo(4);
    await ingest(spreadIn(minute));
    await worker.runOnce();
    // Counted markers only: the rollup follows them, not the raw rows (here, a row removed by hand stays counted).
    await pool.query("DELETE FROM check_results WHERE duration_ms = 1");
    await ingest([makeResult({ at: minute + 50_000, durationMs: 2 })]);
    expect(await worker.runOnce()).toEqual({ markers: 1, minutes: 1 });
    expect((await rollups("1m"))[0]).toMatchObject({ total: 21, up: 19, min_ms: 1 });

    // A marker without counts (one from before migration 0034) beside counted ones of the same
    // minute: the minute is rebuilt from its raw rows, which already hold the counted ones.
    await ingest([makeResult({ at: minute + 51_000, durationMs: 3 })]);
    await pool.query("INSERT INTO check_rollup_dirty (check_id, location, minute) SELECT check_id, location, bucket FROM check_rollups_1m");
    await ingest([makeResult({ at: minute + 52_000, durationMs: 4 })]);
    expect(await worker.runOnce()).toEqual({ markers: 3, minutes: 1 });
    const { m, h, d } = await allLevels();
    // 20 spread runs, minus the one removed (degraded), plus three late ones (up).
    expect(m[0]).toMatchObject({ total: 22, up: 21, degraded: 1 });
    expect(m[0]!.hist.reduce((a, b) => a + b, 0)).toBe(22);
    expect(h[0]).toMatchObject({ total: 22, up: 21, degraded: 1, hist: m[0]!.hist });
    expect(d[0]).toMatchObject({ total: 22, up: 21, degraded: 1, hist: m[0]!.hist });
  });

  it("leaves the markers of a pass that fails, so the next pass does the work", async () => {
    await ingest(spreadIn(minuteAgo(2)));
    await pool.query("ALTER TABLE check_rollups_1h RENAME TO check_rollups_1h_away");
    try {
      await expect(worker.runOnce()).rejects.toThrow(/check_rollups_1h/);
    } finally {
      await pool.query("ALTER TABLE check_rollups_1h_away RENAME TO check_rollups_1h");
    }
    expect(await rollups("1m")).toEqual([]);
    expect(await worker.runOnce()).toMatchObject({ minutes: 1 });
    expect(await rollups("1h")).toHaveLength(1);
  });

  it("takes markers in batches until none are left", async () => {
    const small = createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions, batchSize: 3 });
    await ingest(Array.from({ length: 10 }, (_, i) => makeResult({ at: minuteAgo(20 - i) })));
    expect(await small.runOnce()).toEqual({ markers: 10, minutes: 10 });
    expect(await rollups("1m")).toHaveLength(10);
  });

  it("recomputes a minute once however many ingest batches marked it", async () => {
    const small = createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions, batchSize: 3 });
    const minute = minuteAgo(5);
    for (let i = 0; i < 7; i++) await ingest([makeResult({ at: minute + i * 1000 })]);
    expect(await small.runOnce()).toEqual({ markers: 7, minutes: 1 });
    expect(await rollups("1m")).toMatchObject([{ total: 7 }]);
  });
});
