// What a group of results adds to a rollup bucket, as SQL: the rollup worker counts its markers
// (one per stored result) and, when it rebuilds a minute, the raw rows with the same
// aggregates. Latency columns describe answered runs only (up and degraded).
import { histogramOfSql } from "./latency-histogram.ts";

/** The value columns of every rollup level, in order. */
export const ROLLUP_DELTA_COLUMNS = "total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist";

/**
 * The aggregates of ROLLUP_DELTA_COLUMNS over a group of rows of `x` (columns `status`,
 * `duration_ms`, and `bucket`: vantage_latency_bucket(duration_ms), computed once per row), each named after its column.
 */
export function minuteDeltaOfSql(x: string): string {
  const answered = `${x}.status IN ('up', 'degraded')`;
  const columns = ROLLUP_DELTA_COLUMNS.split(", ");
  return [
    "count(*)::integer",
    `count(*) FILTER (WHERE ${x}.status = 'up')::integer`,
    `count(*) FILTER (WHERE ${x}.status = 'degraded')::integer`,
    `count(*) FILTER (WHERE ${x}.status = 'down')::integer`,
    `count(*) FILTER (WHERE ${x}.status = 'error')::integer`,
    `coalesce(sum(${x}.duration_ms) FILTER (WHERE ${answered}), 0)::bigint`,
    `min(${x}.duration_ms) FILTER (WHERE ${answered})`,
    `max(${x}.duration_ms) FILTER (WHERE ${answered})`,
    histogramOfSql(`${x}.bucket`, answered),
  ]
    .map((sql, i) => `${sql} AS ${columns[i]}`)
    .join(", ");
}
