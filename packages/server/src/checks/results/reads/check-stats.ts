// Reads of the rollups: one check's stats over a range (counts, availability, percentiles, a
// latency series per location) and the uptime bars of a page of checks. Never raw rows,
// never every check: each query is one primary-key range per check on one rollup level.
import type pg from "pg";
import { VantageError } from "../../../errors.ts";
import { DEFAULT_RESULT_RETENTION, type ResultRetention } from "../check-result.ts";
import {
  addHistograms,
  emptyHistogram,
  histogramQuantile,
  type Percentiles,
  parseHistogramText,
  percentilesOf,
  sumHistogramsSql,
} from "../latency-histogram.ts";
import { DAY_MS, RESULT_TABLES } from "../partitions.ts";

export type RollupLevel = "1m" | "1h" | "1d";

/** Bucket length of each level, in ms. */
export const LEVEL_MS: Readonly<Record<RollupLevel, number>> = { "1m": 60_000, "1h": 3_600_000, "1d": DAY_MS };
const LEVELS: readonly RollupLevel[] = ["1m", "1h", "1d"];

/** Most points a series has per location. */
export const MAX_SERIES_POINTS = 1500;

export interface ReadOptions {
  /** The clock, in epoch ms: a range older than a level's retention reads a coarser level. */
  now?: () => number;
  retention?: ResultRetention;
}

export interface TimeRange {
  from: Date | string | number;
  to: Date | string | number;
}

function parseRange(range: TimeRange): { from: number; to: number } {
  const from = new Date(range.from).getTime();
  const to = new Date(range.to).getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new VantageError("invalid_input", "invalid_range", "from and to must be timestamps with from before to.");
  }
  return { from, to };
}

const coarser = (a: RollupLevel, b: RollupLevel): RollupLevel => (LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b);

/** The finest level still holding data as old as `from`. */
function levelByAge(from: number, options: ReadOptions): RollupLevel {
  const now = (options.now ?? Date.now)();
  const retention = options.retention ?? DEFAULT_RESULT_RETENTION;
  for (const level of LEVELS) if (from >= now - retention[RESULT_TABLES[level].retention] * DAY_MS) return level;
  return "1d";
}

/**
 * The level a series reads: by span, up to 7 days the 1-minute rollups, up to 90 days the
 * 1-hour ones, beyond that the 1-day ones — and never a level whose retention no longer
 * covers `from`. Raw rows are never read for stats (the 1-minute level is as fine as a chart gets).
 */
export function seriesLevel(range: { from: number; to: number }, options: ReadOptions = {}): RollupLevel {
  const span = range.to - range.from;
  const bySpan: RollupLevel = span <= 7 * DAY_MS ? "1m" : span <= 90 * DAY_MS ? "1h" : "1d";
  return coarser(bySpan, levelByAge(range.from, options));
}

/** The point width: whole level buckets, as few as keep the series within `maxPoints`. */
export function seriesStepMs(range: { from: number; to: number }, level: RollupLevel, maxPoints = MAX_SERIES_POINTS): number {
  const unit = LEVEL_MS[level];
  return unit * Math.max(1, Math.ceil((range.to - range.from) / (unit * maxPoints)));
}

export interface StatusCounts {
  total: number;
  up: number;
  degraded: number;
  down: number;
  error: number;
}

export interface SeriesPoint extends StatusCounts, Percentiles {
  /** Start of the point (epoch-aligned multiple of the step), ISO. */
  at: string;
  /** Mean latency of answered runs (up and degraded), ms. */
  meanMs: number | null;
}

export interface LocationStats {
  location: string;
  counts: StatusCounts;
  /** (up + degraded) / (total − error): an error says nothing about the target. Null without data. */
  availability: number | null;
  latency: Percentiles & { minMs: number | null; maxMs: number | null; meanMs: number | null };
  series: SeriesPoint[];
}

export interface CheckStats {
  checkId: string;
  from: string;
  to: string;
  level: RollupLevel;
  stepSeconds: number;
  locations: LocationStats[];
}

interface RollupRow {
  location: string;
  /** Epoch ms: node-pg's timestamptz parser costs more than the rest of a row. */
  at: number;
  total: number;
  up: number;
  degraded: number;
  down: number;
  error: number;
  sum_ms: string;
  min_ms: number | null;
  max_ms: number | null;
  hist: string;
}

const rollupTable = (level: RollupLevel) => RESULT_TABLES[level].table;

// Points of `step` seconds aligned on the epoch (date_bin), summed over the level's buckets
// that start within the range: a primary-key range of one check over all its locations.
// Histograms travel as "3,0,1,…": node-pg's generic array parser costs several times a split.
const seriesSql = (level: RollupLevel) => `
  SELECT location, extract(epoch FROM date_bin(make_interval(secs => $4), bucket, timestamptz '1970-01-01 00:00:00+00'))::float8 * 1000 AS at,
    sum(total)::integer AS total, sum(up)::integer AS up, sum(degraded)::integer AS degraded,
    sum(down)::integer AS down, sum(error)::integer AS error,
    sum(sum_ms) AS sum_ms, min(min_ms) AS min_ms, max(max_ms) AS max_ms,
    array_to_string(${sumHistogramsSql("hist")}, ',') AS hist
  FROM ${rollupTable(level)}
  WHERE check_id = $1 AND bucket >= $2 AND bucket < $3
  GROUP BY location, at
  ORDER BY location, at`;

/** Reachability: successes (up or degraded) of the results that observed anything (not probe errors). */
export const availabilityOf = (counts: StatusCounts) => {
  const observed = counts.total - counts.error;
  return observed > 0 ? (counts.up + counts.degraded) / observed : null;
};

const meanOf = (sumMs: number, counts: StatusCounts) => {
  const answered = counts.up + counts.degraded;
  return answered > 0 ? sumMs / answered : null;
};

export interface RollupQuery {
  from: number;
  to: number;
  level: RollupLevel;
  sql: string;
  params: unknown[];
}

/** The statement checkStats runs (benchmarks EXPLAIN it). */
export function seriesQuery(checkId: string, range: TimeRange, options: ReadOptions = {}): RollupQuery & { stepMs: number } {
  const { from, to } = parseRange(range);
  const level = seriesLevel({ from, to }, options);
  const stepMs = seriesStepMs({ from, to }, level);
  const alignedFrom = Math.floor(from / LEVEL_MS[level]) * LEVEL_MS[level];
  return { from, to, level, stepMs, sql: seriesSql(level), params: [checkId, new Date(alignedFrom).toISOString(), new Date(to).toISOString(), stepMs / 1000] };
}

/**
 * Stats of one check over [from, to) per location, from the rollups (which lag raw results by
 * the rollup worker's interval). Buckets are counted whole: the range is widened to the
 * chosen level's buckets containing `from`.
 */
export async function checkStats(db: Pick<pg.ClientBase, "query">, checkId: string, range: TimeRange, options: ReadOptions = {}): Promise<CheckStats> {
  const { from, to, level, stepMs, sql, params } = seriesQuery(checkId, range, options);
  const { rows } = await db.query<RollupRow>(sql, params);

  const byLocation = new Map<string, { stats: LocationStats; hist: number[]; sumMs: number }>();
  const scratch = emptyHistogram();
  for (const row of rows) {
    let entry = byLocation.get(row.location);
    if (!entry) {
      const stats: LocationStats = {
        location: row.location,
        counts: { total: 0, up: 0, degraded: 0, down: 0, error: 0 },
        availability: null,
        latency: { p50: null, p95: null, p99: null, minMs: null, maxMs: null, meanMs: null },
        series: [],
      };
      entry = { stats, hist: emptyHistogram(), sumMs: 0 };
      byLocation.set(row.location, entry);
    }
    const counts: StatusCounts = { total: row.total, up: row.up, degraded: row.degraded, down: row.down, error: row.error };
    // One scratch histogram for every row: a point keeps only its percentiles.
    const hist = parseHistogramText(row.hist, scratch);
    const sumMs = Number(row.sum_ms);
    const { stats } = entry;
    stats.counts.total += row.total;
    stats.counts.up += row.up;
    stats.counts.degraded += row.degraded;
    stats.counts.down += row.down;
    stats.counts.error += row.error;
    addHistograms(entry.hist, hist);
    entry.sumMs += sumMs;
    if (row.min_ms !== null) stats.latency.minMs = Math.min(stats.latency.minMs ?? row.min_ms, row.min_ms);
    if (row.max_ms !== null) stats.latency.maxMs = Math.max(stats.latency.maxMs ?? row.max_ms, row.max_ms);
    const { p50, p95, p99 } = percentilesOf(hist, { minMs: row.min_ms, maxMs: row.max_ms });
    stats.series.push({ at: new Date(row.at).toISOString(), ...counts, p50, p95, p99, meanMs: meanOf(sumMs, counts) });
  }
  const locations = [...byLocation.values()].map(({ stats, hist, sumMs }) => {
    stats.availability = availabilityOf(stats.counts);
    Object.assign(stats.latency, percentilesOf(hist, stats.latency), { meanMs: meanOf(sumMs, stats.counts) });
    return stats;
  });
  return { checkId, from: new Date(from).toISOString(), to: new Date(to).toISOString(), level, stepSeconds: stepMs / 1000, locations };
}

export interface UptimeBarsOptions extends TimeRange {
  /** Segments of the bar, equal slices of [from, to). */
  buckets: number;
}

export interface UptimeBars {
  level: RollupLevel;
  from: string;
  to: string;
  segmentSeconds: number;
  /** Per check asked for, in order: one StatusCounts per segment (all locations summed), oldest first, and each segment's p95 latency (null without results). */
  checks: Array<{ checkId: string; segments: StatusCounts[]; p95Ms: Array<number | null> }>;
}

export const MAX_BAR_CHECKS = 1000;
export const MAX_BAR_SEGMENTS = 1500;

/**
 * The level of the bars: the coarsest whose buckets still fit in one segment (24 h in 24
 * segments reads hours, 90 days in 90 reads days), and whose retention still covers `from`.
 * A bucket counts in the segment where it starts, so a segment that is not a whole number of
 * buckets (24 h in 90 segments) reads the next finer level.
 */
export function barsLevel(range: { from: number; to: number }, segments: number, options: ReadOptions = {}): RollupLevel {
  const segmentMs = (range.to - range.from) / segments;
  const bySegment = [...LEVELS].reverse().find((level) => segmentMs >= LEVEL_MS[level] && Number.isInteger(segmentMs / LEVEL_MS[level])) ?? "1m";
  return coarser(bySegment, levelByAge(range.from, options));
}

const barsSql = (level: RollupLevel) => `
  SELECT check_id, width_bucket(extract(epoch FROM bucket)::float8, $4::float8, $5::float8, $6) AS segment,
    sum(total)::integer AS total, sum(up)::integer AS up, sum(degraded)::integer AS degraded,
    sum(down)::integer AS down, sum(error)::integer AS error, min(min_ms) AS min_ms, max(max_ms) AS max_ms,
    array_to_string(${sumHistogramsSql("hist")}, ',') AS hist
  FROM ${rollupTable(level)}
  WHERE check_id = ANY ($1::uuid[]) AND bucket >= $2 AND bucket < $3
  GROUP BY 1, 2`;

/** The statement uptimeBars runs (benchmarks EXPLAIN it). */
export function barsQuery(checkIds: readonly string[], options: UptimeBarsOptions, readOptions: ReadOptions = {}): RollupQuery {
  const { from, to } = parseRange(options);
  const segments = options.buckets;
  if (!Number.isInteger(segments) || segments < 1 || segments > MAX_BAR_SEGMENTS) {
    throw new VantageError("invalid_input", "invalid_buckets", `buckets must be a whole number from 1 to ${MAX_BAR_SEGMENTS}.`);
  }
  if (checkIds.length > MAX_BAR_CHECKS) {
    throw new VantageError("invalid_input", "too_many_checks", `At most ${MAX_BAR_CHECKS} checks per request; ask for a page at a time.`);
  }
  const level = barsLevel({ from, to }, segments, readOptions);
  return {
    from,
    to,
    level,
    sql: barsSql(level),
    params: [checkIds, new Date(from).toISOString(), new Date(to).toISOString(), from / 1000, to / 1000, segments],
  };
}

/** The uptime bars of a page of checks (`check_id = ANY`), one statement on one level. */
export async function uptimeBars(
  db: Pick<pg.ClientBase, "query">,
  checkIds: readonly string[],
  options: UptimeBarsOptions,
  readOptions: ReadOptions = {},
): Promise<UptimeBars> {
  const { from, to, level, sql, params } = barsQuery(checkIds, options, readOptions);
  const segments = options.buckets;
  const zero = (): StatusCounts => ({ total: 0, up: 0, degraded: 0, down: 0, error: 0 });
  const checks = checkIds.map((checkId) => ({
    checkId,
    segments: Array.from({ length: segments }, zero),
    p95Ms: Array.from({ length: segments }, (): number | null => null),
  }));
  const byId = new Map(checks.map((check) => [check.checkId.toLowerCase(), check]));
  if (checkIds.length > 0) {
    type BarRow = StatusCounts & { check_id: string; segment: number; min_ms: number | null; max_ms: number | null; hist: string };
    const { rows } = await db.query<BarRow>(sql, params);
    for (const row of rows) {
      const check = byId.get(row.check_id);
      const segment = check?.segments[row.segment - 1];
      if (!check || !segment) continue;
      for (const key of ["total", "up", "degraded", "down", "error"] as const) segment[key] += row[key];
      // One row per (check, segment): the segment's histogram is whole, so its p95 is exact to the bucket.
      check.p95Ms[row.segment - 1] = histogramQuantile(row.hist.split(",").map(Number), 0.95, { minMs: row.min_ms, maxMs: row.max_ms });
    }
  }
  return { level, from: new Date(from).toISOString(), to: new Date(to).toISOString(), segmentSeconds: (to - from) / segments / 1000, checks };
}
