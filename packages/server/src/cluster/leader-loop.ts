// Runs a duty that must be active on one process of the cluster at a time: it holds a
// session advisory lock on a dedicated pooled connection, and standbys retry to take over.
import type pg from "pg";
import type { Logger } from "../log.ts";
import { ADVISORY_NAMESPACE } from "../storage/index.ts";
import { createWakeableSleep, type WakeableSleep } from "./wakeable-sleep.ts";

export interface LeaderLoopOptions {
  pool: pg.Pool;
  /** The duty's key in AdvisoryLock. */
  lock: number;
  /** For logs: "entity router", "heartbeat monitor". */
  duty: string;
  logger: Logger;
  /** How often a standby tries to take the lock, and the pause after a lost connection. */
  takeoverIntervalMs: number;
  /** The duty's sleep: waking it cuts a standby's wait short (stop, or a hint to retry). */
  sleep: WakeableSleep;
  isRunning: () => boolean;
  /**
   * Does the duty while the lock is held, on the lock's own connection, until isRunning()
   * turns false. Throwing ends the leadership: the connection is discarded, and with it
   * the lock, so a leader that lost its connection can no longer act as one.
   */
  lead: (client: pg.PoolClient) => Promise<void>;
}

export interface LeaderLoop {
  /** Resolves once isRunning() is false and the lock and connection are released. */
  run(): Promise<void>;
  isLeader(): boolean;
}

export function createLeaderLoop(options: LeaderLoopOptions): LeaderLoop {
  const { pool, lock, duty, logger: log, sleep, isRunning } = options;
  let leader = false;

  const onError = (error: Error) => log.warn({ err: error }, `${duty} connection error`);

  const run = async () => {
    while (isRunning()) {
      let client: pg.PoolClient | undefined;
      let broken: Error | undefined;
      try {
        client = await pool.connect();
        client.on("error", onError);
        while (isRunning() && !leader) {
          const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [ADVISORY_NAMESPACE, lock]);
          leader = rows[0]!.locked;
          if (!leader) await sleep.sleep(options.takeoverIntervalMs);
        }
        if (leader) {
          log.info(`this instance is now the ${duty}`);
          await options.lead(client);
          await client.query("SELECT pg_advisory_unlock($1, $2)", [ADVISORY_NAMESPACE, lock]);
        }
      } catch (error) {
        broken = error as Error;
        if (isRunning()) log.warn({ err: error }, `${duty} lost its connection; will retry`);
      } finally {
        if (leader) log.info(`this instance is no longer the ${duty}`);
        leader = false;
        // A pooled client outlives this loop: leave no listener behind on it.
        client?.removeListener("error", onError);
        client?.release(broken);
      }
      if (isRunning() && broken) await sleep.sleep(options.takeoverIntervalMs);
    }
  };

  return { run, isLeader: () => leader };
}

/** What a periodic duty's work loop gets: whether to go on, and a sleep that stop() cuts short. */
export interface DutyContext {
  isRunning(): boolean;
  sleep(ms: number): Promise<void>;
}

export interface LeaderDuty {
  start(): void;
  /** Ends the work in hand, releases the lock and its connection. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

/**
 * A leader loop with its own running flag and wakeable sleep: the start/stop every
 * one-per-cluster periodic duty (heartbeat monitor, job lease sweeper) needs.
 */
export function createLeaderDuty(
  options: Omit<LeaderLoopOptions, "sleep" | "isRunning" | "lead"> & { lead: (client: pg.PoolClient, context: DutyContext) => Promise<void> },
): LeaderDuty {
  const wakeup = createWakeableSleep();
  let running = false;
  let loop: Promise<void> | undefined;
  const context: DutyContext = { isRunning: () => running, sleep: (ms) => wakeup.sleep(ms) };
  const leadership = createLeaderLoop({ ...options, sleep: wakeup, isRunning: () => running, lead: (client) => options.lead(client, context) });

  return {
    start() {
      if (running) return;
      running = true;
      loop = leadership.run();
    },
    async stop() {
      running = false;
      wakeup.wake();
      await loop;
      loop = undefined;
      wakeup.clear();
    },
    isLeader: leadership.isLeader,
  };
}

export interface PeriodicDutyOptions<T = void> extends Omit<LeaderLoopOptions, "sleep" | "isRunning" | "lead" | "takeoverIntervalMs"> {
  /** Time between passes of the active instance. */
  intervalMs: number;
  /** How often a standby tries to become the active one (default: intervalMs). */
  takeoverIntervalMs?: number;
  /** One pass, on the lock's connection; `isRunning` lets a long pass stop early. */
  pass: (client: pg.PoolClient, isRunning: () => boolean) => Promise<T>;
}

export interface PeriodicDuty<T = void> extends LeaderDuty {
  /**
   * One pass now, on a pooled connection of its own and without the lock (tests, and callers
   * that need a pass done now): safe only for a pass that is safe beside the loop's.
   */
  runOnce(): Promise<T>;
}

/** A leader duty that does one pass every `intervalMs` (the lease sweeper, the run pruner, the check results' rollups and partitions). */
export function createPeriodicDuty<T = void>(options: PeriodicDutyOptions<T>): PeriodicDuty<T> {
  const { intervalMs, pass, ...loop } = options;
  const duty = createLeaderDuty({
    ...loop,
    takeoverIntervalMs: options.takeoverIntervalMs ?? intervalMs,
    lead: async (client, { isRunning, sleep }) => {
      while (isRunning()) {
        await pass(client, isRunning);
        await sleep(intervalMs);
      }
    },
  });
  return {
    ...duty,
    async runOnce() {
      const client = await options.pool.connect();
      let broken: Error | undefined;
      try {
        return await pass(client, () => true);
      } catch (error) {
        // A pass that failed may have left its connection mid-transaction: discard it.
        broken = error as Error;
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}
