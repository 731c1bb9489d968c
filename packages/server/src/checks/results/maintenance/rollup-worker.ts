// The rollup worker (one per cluster): takes the minutes ingest marked dirty, recomputes them
// from raw results, then the hours and days containing them from the level below. Every write
// is an upsert of a recomputed value, so running it again changes nothing.
import type pg from "pg";
import { createPeriodicDuty, type PeriodicDuty } from "../../../cluster/index.ts";
import type { Logger } from "../../../log.ts";
import { ADVISORY_NAMESPACE, AdvisoryLock } from "../../../storage/index.ts";
import { histogramOfSql, sumHistogramsSql } from "../latency-histogram.ts";
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
const UPSERT = `
  ON CONFLICT (check_id, bucket, location) DO UPDATE SET
    total = excluded.total, up = excluded.up, degraded = excluded.degraded, down = excluded.down, error = excluded.error,
    sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms, hist = excluded.hist
  WHERE (r.total, r.up, r.degraded, r.down, r.error, r.sum_ms, r.min_ms, r.max_ms, r.hist)
    IS DISTINCT FROM (excluded.total, excluded.up, excluded.degraded, excluded.down, excluded.error, excluded.sum_ms, excluded.min_ms, excluded.max_ms, excluded.hist)`;

const ANSWERED = "x.status IN ('up', 'degraded')";

// Each minute from its raw rows (primary key range per minute).
const RECOMPUTE_MINUTES = `
  INSERT INTO check_rollups_1m AS r (${ROLLUP_COLUMNS})
  SELECT k.check_id, k.minute, k.location,
    count(*), count(*) FILTER (WHERE x.status = 'up'), count(*) FILTER (WHERE x.status = 'degraded'),
    count(*) FILTER (WHERE x.status = 'down'), count(*) FILTER (WHERE x.status = 'error'),
    coalesce(sum(x.duration_ms) FILTER (WHERE ${ANSWERED}), 0),
    min(x.duration_ms) FILTER (WHERE ${ANSWERED}),
    max(x.duration_ms) FILTER (WHERE ${ANSWERED}),
    ${histogramOfSql("x.bucket", ANSWERED)}
  FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS k(check_id, location, minute)
  CROSS JOIN LATERAL (
    SELECT status, duration_ms, vantage_latency_bucket(duration_ms) AS bucket FROM check_results
    WHERE check_id = k.check_id AND location = k.location AND started_at >= k.minute AND started_at < k.minute + interval '1 minute'
  ) x
  GROUP BY k.check_id, k.minute, k.location
  ${UPSERT}`;

/** Each bucket of `target` containing a dirty minute, from the rows of `source` within it. */
const recomputeFrom = (source: string, target: string, unit: "hour" | "day", length: string) => `
  WITH k AS (
    SELECT DISTINCT check_id, location, date_trunc('${unit}', minute, 'UTC') AS bucket
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS d(check_id, location, minute)
  )
  INSERT INTO ${target} AS r (${ROLLUP_COLUMNS})
  SELECT k.check_id, k.bucket, k.location,
    sum(s.total), sum(s.up), sum(s.degraded), sum(s.down), sum(s.error),
    sum(s.sum_ms), min(s.min_ms), max(s.max_ms), ${sumHistogramsSql("s.hist")}
  FROM k JOIN ${source} s ON s.check_id = k.check_id AND s.location = k.location
    AND s.bucket >= k.bucket AND s.bucket < k.bucket + interval '${length}'
  GROUP BY k.check_id, k.bucket, k.location
  ${UPSERT}`;

// Lengths in hours, not '1 day': timestamptz + '1 day' follows the session's DST rules.
const RECOMPUTE_HOURS = recomputeFrom("check_rollups_1m", "check_rollups_1h", "hour", "1 hour");
const RECOMPUTE_DAYS = recomputeFrom("check_rollups_1h", "check_rollups_1d", "day", "24 hours");

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
    await client.query(RECOMPUTE_MINUTES, keys);
    await client.query(RECOMPUTE_HOURS, keys);
    await client.query(RECOMPUTE_DAYS, keys);
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
