// Records, for rows whose deadline passed, what their expiry means (a satellite's heartbeat
// lost, a check's location gone silent), on one process of the cluster at a time. Cost
// follows what expired, not the fleet: `findExpired` must be served by an index on the deadline.
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../log.ts";
import { createLeaderDuty, type LeaderDuty } from "./leader-loop.ts";
import { createWakeableSleep } from "./wakeable-sleep.ts";

/** The design's bound on a deadline monitor's sweep interval. */
export const MAX_DEADLINE_MONITOR_INTERVAL_MS = 2000;

/** Finds and records a batch in one transaction, skipping the rows other batches hold (see `claim`). */
export type ClaimExpired = (limit: number) => Promise<{ found: number; recorded: string[] }>;

interface DeadlineMonitorBase {
  pool: pg.Pool;
  /** The duty's key in AdvisoryLock. */
  lock: number;
  /** For logs: "heartbeat monitor", "check staleness monitor". */
  duty: string;
  logger: Logger;
  /** Time between sweeps of the active monitor (at most 2 s). */
  intervalMs: number;
  /** How often a standby tries to become the active one (default 1 s). */
  takeoverIntervalMs?: number;
  /** Most rows one transaction records; a larger backlog continues at once. */
  batchSize?: number;
  /**
   * Batches one sweep records at once, each its own transaction on disjoint rows (default 1).
   * A mass expiry is then bounded by the database's work, not by one batch's round trips
   * waiting on each other and on a busy event loop.
   */
  parallelBatches?: number;
  /**
   * Standbys sweep too, every interval (with `claim`, on the rows the active monitor does not
   * hold): a mass expiry is recorded by every core's event loop, not one's.
   */
  sweepOnStandby?: boolean;
  /** The counter of recorded expiries: name and help. */
  metric: { name: string; help: string };
  registry?: Registry;
  /** Observes the loop (tests): after each sweep of the active monitor, or of a standby that sweeps. */
  onSweep?: (recorded: readonly string[]) => void;
}

/** Finds the expired rows, then records them in disjoint batches. */
interface FoundExpiries {
  /** The ids whose deadline passed, longest expired first, at most `limit`. */
  findExpired(limit: number): Promise<string[]>;
  /**
   * Records the expiry of a batch (one transaction) and returns the ids it recorded. Must be
   * conditional on the deadline still being passed: running it twice, or on two processes
   * at once, records nothing more. A batch that records nothing ends the sweep.
   */
  record(ids: string[]): Promise<string[]>;
  claim?: never;
}

/**
 * Each batch finds up to `limit` expired rows that no other batch holds, takes them (without
 * waiting) and records them, in one transaction: the parallel batches of a sweep and the
 * sweeps of other processes split a mass expiry between them instead of reading the same rows.
 */
interface ClaimedExpiries {
  claim: ClaimExpired;
  findExpired?: never;
  record?: never;
}

export type DeadlineMonitorOptions = DeadlineMonitorBase & (FoundExpiries | ClaimedExpiries);

export interface DeadlineMonitor extends LeaderDuty {
  /** One sweep on this process, lock or not: the ids it recorded. Safe anywhere, any number of times. */
  sweep(): Promise<string[]>;
}

export function createDeadlineMonitor(options: DeadlineMonitorOptions): DeadlineMonitor {
  const intervalMs = Math.min(options.intervalMs, MAX_DEADLINE_MONITOR_INTERVAL_MS);
  const batchSize = options.batchSize ?? 500;
  const parallelBatches = Math.max(1, Math.trunc(options.parallelBatches ?? 1));
  const log = options.logger.child({ component: options.duty.replaceAll(" ", "-") });
  const counter = new Counter({ ...options.metric, registers: options.registry ? [options.registry] : [] });

  const recordFound = async (record: FoundExpiries["record"], expired: string[]): Promise<string[]> => {
    if (expired.length === 0) return [];
    try {
      return await record(expired);
    } catch (error) {
      log.warn({ err: error, expired: expired.length }, `${options.duty} could not record expiries; the next sweep retries`);
      return [];
    }
  };

  const sweepFound = async ({ findExpired, record }: FoundExpiries): Promise<{ recorded: string[]; more: boolean }> => {
    // One read for the whole sweep, split into disjoint batches recorded side by side: no two
    // transactions lock the same row, and each is one transaction (a mass expiry is recorded
    // in a few commits). Longest expired first, so the first batch holds the oldest.
    const limit = batchSize * parallelBatches;
    const expired = await findExpired(limit);
    const batches: string[][] = [];
    for (let start = 0; start < expired.length; start += batchSize) batches.push(expired.slice(start, start + batchSize));
    const recorded = (await Promise.all(batches.map((batch) => recordFound(record, batch)))).flat();
    // A full read that made progress leaves more behind: continue without sleeping.
    return { recorded, more: expired.length === limit && recorded.length > 0 };
  };

  const claimBatch = async (claim: ClaimExpired): Promise<{ found: number; recorded: string[] }> => {
    try {
      return await claim(batchSize);
    } catch (error) {
      log.warn({ err: error }, `${options.duty} could not record expiries; the next sweep retries`);
      return { found: 0, recorded: [] };
    }
  };

  const sweepClaimed = async (claim: ClaimExpired): Promise<{ recorded: string[]; more: boolean }> => {
    // Each batch takes its own rows in its transaction; one that found a full batch and
    // recorded from it leaves more behind.
    const claimed = await Promise.all(Array.from({ length: parallelBatches }, () => claimBatch(claim)));
    const recorded = claimed.flatMap((batch) => batch.recorded);
    return { recorded, more: claimed.some((batch) => batch.found === batchSize && batch.recorded.length > 0) };
  };

  const sweepBatch = async (): Promise<{ recorded: string[]; more: boolean }> => {
    const swept = options.claim ? await sweepClaimed(options.claim) : await sweepFound(options);
    counter.inc(swept.recorded.length);
    if (swept.recorded.length > 0) log.info({ recorded: swept.recorded.length }, `${options.duty} recorded expiries`);
    return swept;
  };

  /** Sweeps until a sweep leaves nothing behind, then sleeps the interval. */
  const sweepLoop = async (isRunning: () => boolean, sleep: (ms: number) => Promise<void>, beforeSweep?: () => Promise<unknown>) => {
    while (isRunning()) {
      await beforeSweep?.();
      const { recorded, more } = await sweepBatch().catch((error: unknown) => {
        log.warn({ err: error }, `${options.duty} sweep failed; retrying`);
        return { recorded: [], more: false };
      });
      options.onSweep?.(recorded);
      if (!more) await sleep(intervalMs);
    }
  };

  // Sweeps while holding the lock; the ping proves the lock's connection (and so the lock) lives.
  const duty = createLeaderDuty({
    pool: options.pool,
    lock: options.lock,
    duty: options.duty,
    logger: log,
    takeoverIntervalMs: options.takeoverIntervalMs ?? 1000,
    lead: (client, { isRunning, sleep }) => sweepLoop(isRunning, sleep, () => client.query("SELECT 1")),
  });

  // The standby's loop (sweepOnStandby): it sweeps while this process does not lead.
  let standbyRunning = false;
  let standbyLoop: Promise<void> | undefined;
  const standbySleep = createWakeableSleep();
  const standby = async () => {
    const running = () => standbyRunning;
    while (running()) {
      if (duty.isLeader()) await standbySleep.sleep(intervalMs);
      else
        await sweepLoop(
          () => running() && !duty.isLeader(),
          (ms) => standbySleep.sleep(ms),
        );
    }
  };

  return {
    start() {
      duty.start();
      if (!options.sweepOnStandby || standbyRunning) return;
      standbyRunning = true;
      standbyLoop = standby();
    },
    async stop() {
      standbyRunning = false;
      standbySleep.wake();
      await standbyLoop;
      standbyLoop = undefined;
      standbySleep.clear();
      await duty.stop();
    },
    isLeader: duty.isLeader,
    sweep: async () => (await sweepBatch()).recorded,
  };
}
