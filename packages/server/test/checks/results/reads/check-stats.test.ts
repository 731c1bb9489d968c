// Proves stats read the right rollup level for a range and cap the series' points, compute
// availability and percentiles from summed histograms, give the uptime bars of a page of
// checks, and that both reads are primary-key ranges (a series one that never visits the heap).
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStats, DEFAULT_RESULT_RETENTION, LATENCY_BUCKET_BOUNDS_MS, uptimeBars } from "../../../../src/checks/index.ts";
import { barsLevel, MAX_SERIES_POINTS, seriesLevel, seriesQuery, seriesStepMs } from "../../../../src/checks/results/reads/check-stats.ts";
import { DAY_MS } from "../../../../src/checks/results/partitions.ts";
import { createResultsDatabase, ingestContext } from "../../../support/checks/check-results.ts";

const HOUR_MS = 3_600_000;
let pool: pg.Pool;
const checkA = "00000000-0000-4000-8000-0000000000a1";
const checkB = "00000000-0000-4000-8000-0000000000b2";
const now = Date.UTC(2040, 5, 10, 12);
const read = { now: () => now };

/** A histogram with `n` runs in the bucket of `ms`. */
const histAt = (ms: number, n: number) => {
  const hist = new Array(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
  hist[LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => ms < bound)] = n;
  return `{${hist.join(",")}}`;
};

async function rollup(
  level: "1m" | "1h" | "1d",
  checkId: string,
  at: number,
  location: string,
  counts: { up: number; down?: number; error?: number; ms: number },
) {
  const down = counts.down ?? 0;
  const error = counts.error ?? 0;
  await pool.query(
    `INSERT INTO check_rollups_${level} (check_id, bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist)
     VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $9, $10)`,
    [
      checkId,
      new Date(at).toISOString(),
      location,
      counts.up + down + error,
      counts.up,
      down,
      error,
      counts.up * counts.ms,
      counts.ms,
      histAt(counts.ms, counts.up),
    ],
  );
}

beforeAll(async () => {
  pool = await createResultsDatabase("check-stats");
  const { partitions } = ingestContext(pool);
  const day = Date.UTC(2040, 5, 9);
  await partitions.ensure("1m", [day, now]);
  await partitions.ensure("1h", [now - 120 * DAY_MS, now - 60 * DAY_MS, now - 30 * DAY_MS, day]);
  await partitions.ensure("1d", [now - 400 * DAY_MS, now]);
  // Yesterday, minute by minute: core fast and up, eu-1 slower with a few failures.
  for (let minute = 0; minute < 1440; minute += 1) {
    await rollup("1m", checkA, day + minute * 60_000, "core", { up: 2, ms: 40 });
    if (minute % 10 === 0)
      await rollup("1m", checkA, day + minute * 60_000, "eu-1", { up: 1, down: minute % 60 === 0 ? 1 : 0, error: minute === 0 ? 1 : 0, ms: 400 });
  }
  for (let hour = 0; hour < 24; hour++) {
    await rollup("1h", checkA, day + hour * HOUR_MS, "core", { up: 120, ms: 40 });
    await rollup("1h", checkB, day + hour * HOUR_MS, "core", { up: 60, down: hour === 3 ? 60 : 0, ms: 40 });
  }
});

afterAll(async () => {
  await pool?.end();
});

describe("which level a range reads", () => {
  it("reads minutes up to 7 days, hours up to 90 days, days beyond, and never a level whose retention ended", () => {
    const range = (days: number, endsDaysAgo = 0) => ({ from: now - (days + endsDaysAgo) * DAY_MS, to: now - endsDaysAgo * DAY_MS });
    expect(seriesLevel(range(0.25), read)).toBe("1m");
    expect(seriesLevel(range(7), read)).toBe("1m");
    expect(seriesLevel(range(8), read)).toBe("1h");
    expect(seriesLevel(range(90), read)).toBe("1h");
    expect(seriesLevel(range(91), read)).toBe("1d");
    // One day, but 40 days ago: the minutes are gone (30 days), the hours are not.
    expect(seriesLevel(range(1, 40), read)).toBe("1h");
    expect(seriesLevel(range(1, DEFAULT_RESULT_RETENTION.rollup1hDays + 1), read)).toBe("1d");
  });

  it("widens points to keep a series within the cap", () => {
    const week = { from: now - 7 * DAY_MS, to: now };
    expect(seriesStepMs(week, "1m")).toBe(7 * 60_000);
    expect(Math.ceil((week.to - week.from) / seriesStepMs(week, "1m"))).toBeLessThanOrEqual(MAX_SERIES_POINTS);
    expect(seriesStepMs({ from: now - HOUR_MS, to: now }, "1m")).toBe(60_000);
    expect(seriesStepMs({ from: now - 90 * DAY_MS, to: now }, "1h")).toBe(2 * HOUR_MS);
  });

  it("reads bars from the coarsest level whose buckets fill whole segments", () => {
    expect(barsLevel({ from: now - DAY_MS, to: now }, 24, read)).toBe("1h");
    expect(barsLevel({ from: now - DAY_MS, to: now }, 90, read)).toBe("1m");
    expect(barsLevel({ from: now - 90 * DAY_MS, to: now }, 90, read)).toBe("1d");
    expect(barsLevel({ from: now - 2 * DAY_MS, to: now }, 48, read)).toBe("1h");
  });
});

describe("checkStats", () => {
  it("gives counts, availability without errors, percentiles from the summed histograms, and a capped series per location", async () => {
    const stats = await checkStats(pool, checkA, { from: Date.UTC(2040, 5, 9), to: Date.UTC(2040, 5, 10) }, read);
    expect(stats).toMatchObject({ level: "1m", stepSeconds: 60 });
    const [core, eu] = stats.locations;
    expect(core).toMatchObject({ location: "core", counts: { total: 2880, up: 2880, down: 0, error: 0 }, availability: 1 });
    expect(core!.latency).toMatchObject({ p50: 40, p95: 40, p99: 40, minMs: 40, maxMs: 40, meanMs: 40 });
    expect(core!.series).toHaveLength(1440);
    // eu-1: 144 up, 24 down, one error that does not count against availability.
    expect(eu).toMatchObject({ location: "eu-1", counts: { total: 169, up: 144, down: 24, error: 1 } });
    expect(eu!.availability).toBeCloseTo(144 / 168);
    expect(eu!.latency.p95).toBe(400);
    expect(eu!.series).toHaveLength(144);
  });

  it("sums a week into points of 7 minutes", async () => {
    const stats = await checkStats(pool, checkA, { from: now - 7 * DAY_MS, to: now }, read);
    expect(stats).toMatchObject({ level: "1m", stepSeconds: 420 });
    const core = stats.locations.find((location) => location.location === "core")!;
    expect(core.series.length).toBeLessThanOrEqual(MAX_SERIES_POINTS);
    expect(core.series.reduce((sum, point) => sum + point.total, 0)).toBe(2880);
    expect(core.series[1]).toMatchObject({ total: 14, p50: 40 });
  });
});

describe("uptimeBars", () => {
  it("gives each check of a page its segments, oldest first, all locations summed", async () => {
    const bars = await uptimeBars(
      pool,
      [checkA, checkB, "00000000-0000-4000-8000-0000000000c3"],
      { from: Date.UTC(2040, 5, 9), to: Date.UTC(2040, 5, 10), buckets: 24 },
      read,
    );
    expect(bars).toMatchObject({ level: "1h", segmentSeconds: 3600 });
    expect(bars.checks.map((check) => check.checkId)).toEqual([checkA, checkB, "00000000-0000-4000-8000-0000000000c3"]);
    expect(bars.checks[0]!.segments).toHaveLength(24);
    expect(bars.checks[0]!.segments.every((segment) => segment.total === 120 && segment.up === 120)).toBe(true);
    expect(bars.checks[1]!.segments[3]).toEqual({ total: 120, up: 60, degraded: 0, down: 60, error: 0 });
    expect(bars.checks[2]!.segments.every((segment) => segment.total === 0)).toBe(true);
  });

  it("refuses more than a page of checks or too many segments", async () => {
    await expect(uptimeBars(pool, Array(1001).fill(checkA), { from: now - DAY_MS, to: now, buckets: 24 })).rejects.toMatchObject({ code: "too_many_checks" });
    await expect(uptimeBars(pool, [checkA], { from: now - DAY_MS, to: now, buckets: 0 })).rejects.toMatchObject({ code: "invalid_buckets" });
  });
});

describe("query plans", () => {
  const plan = async (sql: string, params: unknown[]) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN; SET LOCAL enable_seqscan = off");
      const { rows } = await client.query(`EXPLAIN ${sql}`, params);
      await client.query("ROLLBACK");
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    } finally {
      client.release();
    }
  };

  it("reads a page of checks' bars and a check's series as primary-key ranges of the partitions in range only", async () => {
    const bars = await plan("SELECT * FROM check_rollups_1h WHERE check_id = ANY ($1::uuid[]) AND bucket >= $2 AND bucket < $3", [
      [checkA, checkB],
      "2040-06-09T00:00:00Z",
      "2040-06-10T00:00:00Z",
    ]);
    // An index range (plain, index-only or bitmap: statistics decide) on the key of the one partition in range.
    expect(bars).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) check_rollups_1h_204006_pkey/);
    expect(bars).toMatch(/Index Cond: \(\(check_id = ANY/);
    expect(bars).not.toMatch(/204004|204005/);
    const series = await plan("SELECT * FROM check_rollups_1m WHERE check_id = $1 AND bucket >= $2 AND bucket < $3", [
      checkA,
      "2040-06-09T00:00:00Z",
      "2040-06-10T00:00:00Z",
    ]);
    expect(series).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) check_rollups_1m_20400609_pkey/);
    expect(series).toMatch(/Index Cond: \(\(check_id = /);
    expect(series).not.toMatch(/20400610/);
  });

  it("reads a check's series from the key alone, never from the heap pages its buckets lie on", async () => {
    // Index-only scans need the visibility map that autovacuum keeps for settled partitions.
    await pool.query("VACUUM check_rollups_1m, check_rollups_1h, check_rollups_1d");
    const client = await pool.connect();
    try {
      // Left the choice between the key's two scans, the planner takes the one that skips the heap
      // only when the key holds every column the series reads.
      await client.query("BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off");
      for (const range of [
        { from: now - DAY_MS, to: now },
        { from: now - 60 * DAY_MS, to: now },
      ]) {
        const { sql, params, level } = seriesQuery(checkA, range, read);
        const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
        const text = rows.map((row) => row["QUERY PLAN"]).join("\n");
        expect(text).toMatch(new RegExp(`Index Only Scan using check_rollups_${level}_\\d+_pkey`));
        expect(text).not.toMatch(/ Index Scan using/);
      }
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });
});
