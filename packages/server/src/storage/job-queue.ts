// graphile-worker's own schema (`graphile_worker`) in our database: the durable job queue
// runs execute on. Its migrations run after ours, at every start, like ours.
import { Logger as WorkerLogger, runMigrations } from "graphile-worker";
import type pg from "pg";
import type { Logger } from "../log.ts";

const LEVELS = { error: "error", warning: "warn", info: "info", debug: "debug" } as const;

/** graphile-worker's logger writing through ours (its `warning` is pino's `warn`). */
export function jobQueueLogger(logger: Logger): WorkerLogger {
  const log = logger.child({ component: "graphile-worker" });
  return new WorkerLogger(() => (level, message, meta) => log[LEVELS[level as keyof typeof LEVELS] ?? "info"](meta ?? {}, message));
}

/** Installs or upgrades the graphile_worker schema; concurrent starters are safe (it detects and retries). */
export async function migrateJobQueue(pool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: jobQueueLogger(logger) });
}
