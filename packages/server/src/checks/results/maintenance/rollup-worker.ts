// The rollup worker (one per cluster): takes the minutes ingest marked dirty, recomputes them
// from raw results, and adds what each minute changed by to its hour and its day. A minute is
// an upsert of a recomputed value, and its hour and day move by exactly what it moved, so
// running it again changes nothing.
import type pg from "pg";
import { createPeriodicDuty, type PeriodicDuty } from "../../../cluster/index.ts";
import type { Logger } from "../../../log.ts";
import { ADVISORY_NAMESPACE, AdvisoryLock } from "../../../storage/index.ts";
import { combineHistogramsSql, histogramOfSql, sumHistogramsSql } from "../latency-histogram.ts";
import type { PartitionCatalog } from "../partitions.ts";
import type { ResultMetrics } from "../result-metrics.ts";

/** How often the active worker looks for dirty minutes: rollups lag raw results by about this. */
export const DEFAULT_ROLLUP_INTERVAL_MS = 2000;
/** Dirty markers taken per transaction: bounds a pass after a long outage of the worker. */
export const DEFAULT_ROLLUP_BATCH = 20_000;

// Picks up to $1 markers and takes (deletes) every visible marker of the minutes they name, so a
// minute whose markers were appended by many ingest batches is recomputed once, not once per
// pass that happens to hold one of them. Markers of transactions still in flight are not
// visible and stay for the next pass. Any result whose marker is taken here committed before
// this statement, so the recompute statements below, later in the same transaction, see it.
// If the pass fails, the DELETE rolls back with it and the markers stay.
const TAKE_DIRTY = `
  WITH picked AS (
    SELECT DISTINCT check_id, location, minute FROM (SELECT check_id, location, minute FROM check_rollup_dirty LIMIT $1) sample
  ), taken AS (
    DELETE FROM check_rollup_dirty d USING picked p
    WHERE d.check_id = p.check_id AND d.location = p.location AND d.minute = p.minute
    RETURNING d.check_id, d.location, d.minute
  ), minutes AS (
    SELECT check_id, location, minute, count(*) AS markers FROM taken GROUP BY check_id, location, minute
  )
  SELECT check_id, location, minute, sum(markers) OVER ()::integer AS taken FROM minutes`;

// What every level stores; latency columns describe answered runs only (up and degraded).
const ROLLUP_COLUMNS = "check_id, bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist";
const ROLLUP_VALUES = "total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist";
const ANSWERED = "x.status IN ('up', 'degraded')";

// What a minute's change adds to a bucket holding it: counts, sums and histogram added; min and
// max only ever move outwards (a minute gains runs, never loses them while it can be dirty).
const ADD_DELTA = `
  ON CONFLICT (check_id, bucket, location) DO UPDATE SET
    total = r.total + excluded.total, up = r.up + excluded.up, degraded = r.degraded + excluded.degraded,
    down = r.down + excluded.down, error = r.error + excluded.error, sum_ms = r.sum_ms + excluded.sum_ms,
    min_ms = least(r.min_ms, excluded.min_ms), max_ms = greatest(r.max_ms, excluded.max_ms),
    hist = ${combineHistogramsSql("r.hist", "+", "excluded.hist")}`;

/** The hours or days holding the changed minutes, each moved by the sum of its minutes' deltas. */
const addDeltasTo = (target: string, unit: "hour" | "day") => `
  INSERT INTO ${target} AS r (${ROLLUP_COLUMNS})
  SELECT check_id, date_trunc('${unit}', bucket, 'UTC'), location,
    sum(total), sum(up), sum(degraded), sum(down), sum(error), sum(sum_ms), min(min_ms), max(max_ms), ${sumHistogramsSql("hist")}
  FROM delta
  GROUP BY check_id, date_trunc('${unit}', bucket, 'UTC'), location`;

// One statement: each dirty minute recomputed from its raw rows (primary key range per minute)
// and compared with the row stored (every part of a statement reads the same snapshot, so
// \`stored\` is the minute before this pass); the changed minutes written, and their hours and
// days moved by the difference. An hour holds the sum of its minutes because every pass keeps
// it so: recomputing it from its minutes instead read up to 60 rows (a day: 24) per dirty
// minute, most of the rollup's cost.
const ROLL_UP = `
  WITH k AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(check_id, location, minute)
  ), fresh AS (
    SELECT k.check_id, k.minute AS bucket, k.location,
      count(*)::integer AS total, count(*) FILTER (WHERE x.status = 'up')::integer AS up,
      count(*) FILTER (WHERE x.status = 'degraded')::integer AS degraded,
      count(*) FILTER (WHERE x.status = 'down')::integer AS down, count(*) FILTER (WHERE x.status = 'error')::integer AS error,
      coalesce(sum(x.duration_ms) FILTER (WHERE ${ANSWERED}), 0)::bigint AS sum_ms,
      min(x.duration_ms) FILTER (WHERE ${ANSWERED}) AS min_ms,
      max(x.duration_ms) FILTER (WHERE ${ANSWERED}) AS max_ms,
      ${histogramOfSql("x.bucket", ANSWERED)} AS hist
    FROM k CROSS JOIN LATERAL (
      SELECT status, duration_ms, vantage_latency_bucket(duration_ms) AS bucket FROM check_results
      WHERE check_id = k.check_id AND location = k.location AND started_at >= k.minute AND started_at < k.minute + interval '1 minute'
    ) x
    GROUP BY k.check_id, k.minute, k.location
  ), changed AS (
    SELECT f.*, s.total AS s_total, s.up AS s_up, s.degraded AS s_degraded, s.down AS s_down, s.error AS s_error,
      s.sum_ms AS s_sum_ms, s.hist AS s_hist
    FROM fresh f LEFT JOIN check_rollups_1m s ON s.check_id = f.check_id AND s.bucket = f.bucket AND s.location = f.location
    WHERE (f.total, f.up, f.degraded, f.down, f.error, f.sum_ms, f.min_ms, f.max_ms, f.hist)
      IS DISTINCT FROM (s.total, s.up, s.degraded, s.down, s.error, s.sum_ms, s.min_ms, s.max_ms, s.hist)
  ), minutes AS (
    INSERT INTO check_rollups_1m AS r (${ROLLUP_COLUMNS})
    SELECT check_id, bucket, location, ${ROLLUP_VALUES} FROM changed
    ON CONFLICT (check_id, bucket, location) DO UPDATE SET
      total = excluded.total, up = excluded.up, degraded = excluded.degraded, down = excluded.down, error = excluded.error,
      sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms, hist = excluded.hist
  ), delta AS (
    SELECT check_id, bucket, location,
      total - coalesce(s_total, 0) AS total, up - coalesce(s_up, 0) AS up, degraded - coalesce(s_degraded, 0) AS degraded,
      down - coalesce(s_down, 0) AS down, error - coalesce(s_error, 0) AS error, sum_ms - coalesce(s_sum_ms, 0) AS sum_ms,
      min_ms, max_ms, ${combineHistogramsSql("hist", "-", "s_hist")} AS hist
    FROM changed
  ), hours AS (
    ${addDeltasTo("check_rollups_1h", "hour")}
    ${ADD_DELTA}
  )
  ${addDeltasTo("check_rollups_1d", "day")}
  ${ADD_DELTA}`;

export interface RollupPass {
  /** Dirty markers taken (a minute may have several). */
  markers: number;
  /** Distinct (check, location, minute) recomputed. */
  minutes: number;
}

/** One transaction: up to `limit` markers, their minutes, hours and days. */
async function rollupBatch(client: pg.ClientBase, partitions: PartitionCatalog, limit: number): Promise<RollupPass> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [ADVISORY_NAMESPACE, AdvisoryLock.checkRollupPass]);
    const { rows } = await client.query<{ check_id: string; location: string; minute: Date; taken: number }>(TAKE_DIRTY, [limit]);
    if (rows.length === 0) {
      await client.query("COMMIT");
      return { markers: 0, minutes: 0 };
    }
    const minutes = rows.map((row) => row.minute.getTime());
    // Partitions of the rollup levels are made by another connection: this transaction holds
    // no lock on the rollup tables yet, and ATTACH only conflicts with other DDL anyway.
    await partitions.ensure("1m", minutes);
    await partitions.ensure("1h", minutes);
    await partitions.ensure("1d", minutes);
    const keys = [rows.map((row) => row.check_id), rows.map((row) => row.location), rows.map((row) => row.minute.toISOString())];
    await client.query(ROLL_UP, keys);
    await client.query("COMMIT");
    return { markers: rows[0]!.taken, minutes: rows.length };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Batches until the markers run out (or `isRunning` turns false). A batch that took fewer
 * markers than `limit` saw every visible marker (its sample was not full), so that was the last.
 */
export async function runRollups(
  client: pg.ClientBase,
  partitions: PartitionCatalog,
  options: { limit?: number; isRunning?: () => boolean } = {},
): Promise<RollupPass> {
  const limit = options.limit ?? DEFAULT_ROLLUP_BATCH;
  const total: RollupPass = { markers: 0, minutes: 0 };
  for (;;) {
    const pass = await rollupBatch(client, partitions, limit);
    total.markers += pass.markers;
    total.minutes += pass.minutes;
    if (pass.markers < limit || !(options.isRunning?.() ?? true)) return total;
  }
}

export interface RollupWorkerOptions {
  pool: pg.Pool;
  logger: Logger;
  partitions: PartitionCatalog;
  metrics?: ResultMetrics;
  intervalMs?: number;
  /** How often a standby tries to become the active worker (default: intervalMs). */
  takeoverIntervalMs?: number;
  batchSize?: number;
}

/** The worker's loop; its runOnce() is one pass now (tests; safe beside a running worker). */
export type RollupWorker = PeriodicDuty<RollupPass>;

export function createRollupWorker(options: RollupWorkerOptions): RollupWorker {
  const { pool, partitions, metrics } = options;
  return createPeriodicDuty({
    pool,
    lock: AdvisoryLock.checkRollups,
    duty: "check rollup worker",
    logger: options.logger.child({ component: "check-rollups" }),
    intervalMs: options.intervalMs ?? DEFAULT_ROLLUP_INTERVAL_MS,
    takeoverIntervalMs: options.takeoverIntervalMs,
    // A failed pass leaves its markers; the leader loop logs it, and retries on a new connection.
    pass: async (client, isRunning) => {
      const stopTimer = metrics?.rollupPassDuration.startTimer();
      try {
        const result = await runRollups(client, partitions, { limit: options.batchSize, isRunning });
        metrics?.rollupMinutes.inc(result.minutes);
        return result;
      } finally {
        stopTimer?.();
      }
    },
  });
}
