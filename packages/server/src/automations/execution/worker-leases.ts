// Leases of graphile-worker pools (`job_worker_leases`): a running core renews its pool's
// lease; a pool whose lease ran out died with its jobs locked, and graphile-worker alone
// would keep them locked for 4 hours. The sweeper (one per cluster, advisory lock) unlocks
// them, so a live worker takes the run's job and the executor resumes after its last
// completed step.
import type pg from "pg";
import { createPeriodicDuty, type LeaderDuty } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";

/** How long a lease lasts without renewal: a dead instance's runs resume within about this. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** How often a running worker renews its lease. */
export const DEFAULT_LEASE_RENEW_INTERVAL_MS = 5_000;
/** How often the active sweeper looks for expired leases. */
export const DEFAULT_LEASE_SWEEP_INTERVAL_MS = 5_000;

type Queryable = Pick<pg.Pool, "query">;

/**
 * Takes or extends a pool's lease to ttlMs from now (the database's clock). Returns false
 * when there was no lease to extend: it had expired and was swept (its jobs unlocked, maybe
 * taken by another instance) or it is the pool's first.
 */
export async function renewLease(db: Queryable, lease: { workerId: string; instanceId: string; ttlMs: number }): Promise<boolean> {
  const until = "clock_timestamp() + make_interval(secs => $2::float8 / 1000)";
  const renewed = await db.query(`UPDATE job_worker_leases SET lease_until = ${until} WHERE worker_id = $1`, [lease.workerId, lease.ttlMs]);
  if (renewed.rowCount) return true;
  await db.query(
    `INSERT INTO job_worker_leases (worker_id, instance_id, lease_until) VALUES ($1, $3, ${until})
     ON CONFLICT (worker_id) DO UPDATE SET lease_until = EXCLUDED.lease_until`,
    [lease.workerId, lease.ttlMs, lease.instanceId],
  );
  return false;
}

/** Gives a lease up: its pool stopped and holds no job. */
export async function releaseLease(db: Queryable, workerId: string): Promise<void> {
  await db.query("DELETE FROM job_worker_leases WHERE worker_id = $1", [workerId]);
}

/**
 * One sweep, in one transaction: deletes expired leases and force-unlocks the jobs of their
 * pools, and of pools that hold a lock older than orphanGraceMs without any lease (a process
 * that died between locking its first job and writing its lease). Returns the unlocked pool ids.
 */
export async function sweepExpiredLeases(client: pg.ClientBase, orphanGraceMs: number): Promise<string[]> {
  await client.query("BEGIN");
  try {
    const expired = await client.query<{ worker_id: string }>("DELETE FROM job_worker_leases WHERE lease_until < clock_timestamp() RETURNING worker_id");
    const orphaned = await client.query<{ worker_id: string }>(
      `SELECT DISTINCT j.locked_by AS worker_id FROM graphile_worker.jobs j
       WHERE j.locked_by IS NOT NULL AND j.locked_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
         AND NOT EXISTS (SELECT 1 FROM job_worker_leases l WHERE l.worker_id = j.locked_by)`,
      [orphanGraceMs],
    );
    const ids = [...new Set([...expired.rows, ...orphaned.rows].map((row) => row.worker_id))];
    if (ids.length > 0) await client.query("SELECT graphile_worker.force_unlock_workers($1::text[])", [ids]);
    await client.query("COMMIT");
    return ids;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export interface LeaseSweeperOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Time between sweeps of the active sweeper. */
  intervalMs?: number;
  /** How often a standby sweeper tries to become the active one (default: intervalMs). */
  takeoverIntervalMs?: number;
  /** A lock this old without any lease is a dead pool's (default: the lease TTL). */
  orphanGraceMs?: number;
  /** Observes the loop (tests): after each sweep of the active sweeper. */
  onSweep?: (unlocked: readonly string[]) => void;
}

/** Started and stopped with the core; one instance of the cluster sweeps at a time. */
export type LeaseSweeper = LeaderDuty;

export function createLeaseSweeper(options: LeaseSweeperOptions): LeaseSweeper {
  const log = options.logger.child({ component: "job-lease-sweeper" });
  const intervalMs = options.intervalMs ?? DEFAULT_LEASE_SWEEP_INTERVAL_MS;
  const orphanGraceMs = options.orphanGraceMs ?? DEFAULT_LEASE_TTL_MS;
  return createPeriodicDuty({
    pool: options.pool,
    lock: AdvisoryLock.jobLeaseSweeper,
    duty: "job lease sweeper",
    logger: log,
    intervalMs,
    takeoverIntervalMs: options.takeoverIntervalMs,
    pass: async (client) => {
      const unlocked = await sweepExpiredLeases(client, orphanGraceMs);
      if (unlocked.length > 0) log.warn({ workerIds: unlocked }, "unlocked the jobs of graphile-worker pools whose lease expired");
      options.onSweep?.(unlocked);
    },
  });
}
