// graphile-worker's own schema (`graphile_worker`) in our database: the durable job queue
// runs execute on. Its migrations run after ours, at every start, like ours.
import { Logger as WorkerLogger, runMigrations } from "graphile-worker";
import type pg from "pg";
import type { Logger } from "../log.ts";

const LEVELS = { error: "error", warning: "warn", info: "info", debug: "debug" } as const;

/**
 * graphile-worker's warning when its pool has fewer connections than the jobs it runs at once.
 * The automation worker's does by design: that pool only fetches, locks and completes jobs (in
 * batches) and listens, while each job's run executes on the core's own connections
 * (automation-worker.ts, WORKER_POOL_SIZE). Logged at debug: as a warning, every start of every
 * core reported a setting that is as intended.
 */
const POOL_SMALLER_THAN_CONCURRENCY = /^WARNING: having maxPoolSize \(\d+\) smaller than concurrency \(\d+\)/;

/** graphile-worker's logger writing through ours (its `warning` is pino's `warn`). */
export function jobQueueLogger(logger: Logger): WorkerLogger {
  const log = logger.child({ component: "graphile-worker" });
  return new WorkerLogger(() => (level, message, meta) => {
    const ours = level === "warning" && POOL_SMALLER_THAN_CONCURRENCY.test(message) ? "debug" : (LEVELS[level as keyof typeof LEVELS] ?? "info");
    log[ours](meta ?? {}, message);
  });
}

/** Installs or upgrades the graphile_worker schema; concurrent starters are safe (it detects and retries). */
export async function migrateJobQueue(pool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: jobQueueLogger(logger) });
}
