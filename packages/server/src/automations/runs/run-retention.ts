// Run retention: one pruner per cluster (advisory lock) deletes finished runs (their steps
// cascade) and skips older than the retention, in bounded batches, so the tables stop growing.
import type pg from "pg";
import { createPeriodicDuty, type LeaderDuty } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";

export const DEFAULT_RUN_RETENTION_DAYS = 30;
/** How often the active pruner prunes. */
export const DEFAULT_RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** Rows per DELETE: short statements hold few locks and never one long transaction. */
export const DEFAULT_RETENTION_BATCH_SIZE = 1_000;

const DAY_MS = 24 * 60 * 60 * 1000;

type Queryable = Pick<pg.Pool, "query">;

// Ages count on the database's clock, the one that wrote finished_at and created_at.
const CUTOFF = "clock_timestamp() - make_interval(secs => $1::float8 / 1000)";

// Only ended runs: a queued, pending or running one is kept whatever its age (the status
// check guards a run some future mode reopens). Served by automation_runs_finished (0011).
const PRUNE_RUNS = `
  DELETE FROM automation_runs WHERE id IN (
    SELECT id FROM automation_runs
    WHERE finished_at < ${CUTOFF} AND status NOT IN ('queued', 'pending', 'running')
    ORDER BY finished_at LIMIT $2)`;

// Served by automation_skips_created (0011).
const PRUNE_SKIPS = `
  DELETE FROM automation_skips WHERE id IN (
    SELECT id FROM automation_skips WHERE created_at < ${CUTOFF} ORDER BY created_at LIMIT $2)`;

export interface PruneResult {
  runs: number;
  skips: number;
}

/**
 * Deletes `statement`'s rows batch by batch until a batch comes back short, or `goOn` turns
 * false (a stopping process leaves a large backlog to the next pass). Returns how many.
 */
async function pruneAll(db: Queryable, statement: string, olderThanMs: number, batchSize: number, goOn: () => boolean): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(statement, [olderThanMs, batchSize]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize || !goOn()) return total;
  }
}

/** One pass: runs that ended and skips recorded more than olderThanMs ago, at most batchSize rows a statement. */
export async function pruneRuns(
  db: Queryable,
  olderThanMs: number,
  batchSize = DEFAULT_RETENTION_BATCH_SIZE,
  goOn: () => boolean = () => true,
): Promise<PruneResult> {
  return { runs: await pruneAll(db, PRUNE_RUNS, olderThanMs, batchSize, goOn), skips: await pruneAll(db, PRUNE_SKIPS, olderThanMs, batchSize, goOn) };
}

export interface RunPrunerOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Runs and skips older than this many days go (VANTAGE_RUN_RETENTION_DAYS). */
  retentionDays?: number;
  /** Time between passes of the active pruner. */
  intervalMs?: number;
  /** How often a standby pruner tries to become the active one (default: intervalMs). */
  takeoverIntervalMs?: number;
  batchSize?: number;
  /** Observes the loop (tests): after each pass of the active pruner. */
  onPrune?: (result: PruneResult) => void;
}

/** Started and stopped with the core; one instance of the cluster prunes at a time. */
export type RunPruner = LeaderDuty;

export function createRunPruner(options: RunPrunerOptions): RunPruner {
  const log = options.logger.child({ component: "run-retention" });
  const intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
  const retentionMs = (options.retentionDays ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
  return createPeriodicDuty({
    pool: options.pool,
    lock: AdvisoryLock.runRetention,
    duty: "run retention pruner",
    logger: log,
    intervalMs,
    takeoverIntervalMs: options.takeoverIntervalMs,
    pass: async (client, isRunning) => {
      const result = await pruneRuns(client, retentionMs, options.batchSize, isRunning);
      if (result.runs + result.skips > 0) log.info(result, `pruned ${result.runs} runs and ${result.skips} skips older than the retention`);
      options.onPrune?.(result);
    },
  });
}
