// The rollup worker (one per cluster): takes the markers ingest appended, one per stored result
// with its minute, status and duration (migration 0034), and counts them into the minute, its
// hour and its day. A marker is deleted in the statement that counts it, so each counts exactly
// once; a marker without a status (written before migration 0034, or by hand) has its minute
// rebuilt from raw results instead, and its hour and day moved by what the minute changed by.
import type pg from "pg";
import { createPeriodicDuty, type PeriodicDuty } from "../../../cluster/index.ts";
import type { Logger } from "../../../log.ts";
import { ADVISORY_NAMESPACE, AdvisoryLock } from "../../../storage/index.ts";
import { combineHistogramsSql, sumHistogramsSql } from "../latency-histogram.ts";
import type { PartitionCatalog } from "../partitions.ts";
import type { ResultMetrics } from "../result-metrics.ts";
import { minuteDeltaOfSql, ROLLUP_DELTA_COLUMNS } from "../rollup-delta.ts";

/** How often the active worker looks for markers: rollups lag raw results by about this. */
export const DEFAULT_ROLLUP_INTERVAL_MS = 2000;
/** Markers sampled per transaction: bounds a pass after a long outage of the worker. */
export const DEFAULT_ROLLUP_BATCH = 20_000;

// The (check, location, minute) of up to $1 markers, and how many were sampled: fewer than $1
// means every visible marker was seen. Nothing is taken yet: the partitions of those minutes
// are made first, then ROLL_UP takes every marker of these minutes.
const PICK = `
  WITH sample AS (SELECT check_id, location, minute FROM check_rollup_dirty LIMIT $1)
  SELECT check_id, location, minute, (SELECT count(*) FROM sample)::integer AS sampled FROM sample GROUP BY check_id, location, minute`;

const ROLLUP_COLUMNS = `check_id, bucket, location, ${ROLLUP_DELTA_COLUMNS}`;

// What a change adds to a bucket holding it: counts, sums and histogram added; min and max only
// ever move outwards (a minute gains runs, never loses them while it can be marked).
const ADD_DELTA = `
  ON CONFLICT (check_id, bucket, location) DO UPDATE SET
    total = r.total + excluded.total, up = r.up + excluded.up, degraded = r.degraded + excluded.degraded,
    down = r.down + excluded.down, error = r.error + excluded.error, sum_ms = r.sum_ms + excluded.sum_ms,
    min_ms = least(r.min_ms, excluded.min_ms), max_ms = greatest(r.max_ms, excluded.max_ms),
    hist = ${combineHistogramsSql("r.hist", "+", "excluded.hist")}`;

/** The hours or days holding the changed minutes, each moved by the sum of its minutes' deltas (a minute is one row of delta). */
const addDeltasTo = (target: string, unit: "hour" | "day") => `
  INSERT INTO ${target} AS r (${ROLLUP_COLUMNS})
  SELECT check_id, date_trunc('${unit}', bucket, 'UTC'), location,
    sum(total), sum(up), sum(degraded), sum(down), sum(error), sum(sum_ms), min(min_ms), max(max_ms), ${sumHistogramsSql("hist")}
  FROM delta
  GROUP BY check_id, date_trunc('${unit}', bucket, 'UTC'), location
  ${ADD_DELTA}`;

// One statement, so every part reads one snapshot: the markers of the picked minutes taken
// (deleted; markers of transactions still in flight are not visible and stay for the next
// pass), counted per minute, and added to the minute, its hour and its day. A minute with a
// marker without a status is rebuilt from its raw rows instead (primary key range per minute)
// and compared with the minute stored: its delta is the difference, and the results of its
// other markers are in the raw rows this snapshot sees (they committed before it, together).
// An hour holds the sum of its minutes because every pass keeps it so.
const ROLL_UP = `
  WITH k AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(check_id, location, minute)
  ), taken AS (
    DELETE FROM check_rollup_dirty d USING k
    WHERE d.check_id = k.check_id AND d.location = k.location AND d.minute = k.minute
    RETURNING d.check_id, d.location, d.minute, d.status, d.duration_ms, vantage_latency_bucket(d.duration_ms) AS bucket
  ), marked AS (
    SELECT t.check_id, t.location, t.minute AS bucket, count(*)::integer AS markers, bool_or(t.status IS NULL) AS rebuild, ${minuteDeltaOfSql("t")}
    FROM taken t GROUP BY t.check_id, t.location, t.minute
  ), fresh AS (
    SELECT m.check_id, m.bucket, m.location, ${minuteDeltaOfSql("x")}
    FROM marked m CROSS JOIN LATERAL (
      SELECT status, duration_ms, vantage_latency_bucket(duration_ms) AS bucket FROM check_results
      WHERE check_id = m.check_id AND location = m.location AND started_at >= m.bucket AND started_at < m.bucket + interval '1 minute'
    ) x
    WHERE m.rebuild
    GROUP BY m.check_id, m.bucket, m.location
  ), delta AS (
    SELECT check_id, bucket, location, ${ROLLUP_DELTA_COLUMNS} FROM marked WHERE NOT rebuild
    UNION ALL
    SELECT f.check_id, f.bucket, f.location,
      f.total - coalesce(s.total, 0), f.up - coalesce(s.up, 0), f.degraded - coalesce(s.degraded, 0), f.down - coalesce(s.down, 0),
      f.error - coalesce(s.error, 0), f.sum_ms - coalesce(s.sum_ms, 0), f.min_ms, f.max_ms, ${combineHistogramsSql("f.hist", "-", "s.hist")}
    FROM fresh f LEFT JOIN check_rollups_1m s ON s.check_id = f.check_id AND s.bucket = f.bucket AND s.location = f.location
  ), minutes AS (
    INSERT INTO check_rollups_1m AS r (${ROLLUP_COLUMNS})
    SELECT check_id, bucket, location, ${ROLLUP_DELTA_COLUMNS} FROM delta
    ${ADD_DELTA}
  ), hours AS (
    ${addDeltasTo("check_rollups_1h", "hour")}
  ), days AS (
    ${addDeltasTo("check_rollups_1d", "day")}
  )
  SELECT coalesce(sum(markers), 0)::integer AS markers, count(*)::integer AS minutes FROM marked`;

export interface RollupPass {
  /** Dirty markers taken (a minute may have several). */
  markers: number;
  /** Distinct (check, location, minute) recomputed. */
  minutes: number;
}

/** One transaction: the minutes of up to `limit` markers, every marker of those minutes, their hours and days. */
async function rollupBatch(client: pg.ClientBase, partitions: PartitionCatalog, limit: number): Promise<RollupPass & { sampled: number }> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [ADVISORY_NAMESPACE, AdvisoryLock.checkRollupPass]);
    const { rows } = await client.query<{ check_id: string; location: string; minute: Date; sampled: number }>(PICK, [limit]);
    if (rows.length === 0) {
      await client.query("COMMIT");
      return { markers: 0, minutes: 0, sampled: 0 };
    }
    const minutes = rows.map((row) => row.minute.getTime());
    // Partitions of the rollup levels are made by another connection: this transaction holds
    // no lock on the rollup tables yet, and ATTACH only conflicts with other DDL anyway.
    await partitions.ensure("1m", minutes);
    await partitions.ensure("1h", minutes);
    await partitions.ensure("1d", minutes);
    const keys = [rows.map((row) => row.check_id), rows.map((row) => row.location), rows.map((row) => row.minute.toISOString())];
    // Unnamed on purpose: a pass is once every 2 s, and a custom plan knows how many keys it joins.
    const { rows: done } = await client.query<RollupPass>(ROLL_UP, keys);
    await client.query("COMMIT");
    return { ...done[0]!, sampled: rows[0]!.sampled };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Batches until the markers run out (or `isRunning` turns false). A batch that sampled fewer
 * markers than `limit` saw every visible marker, so that was the last.
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
    if (pass.sampled < limit || !(options.isRunning?.() ?? true)) return total;
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
