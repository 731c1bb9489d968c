// The core location's scheduler, one per core process: it claims due runs in batches from the
// shared schedule (so each run happens once per cluster, on whichever core claimed it), starts
// each at its slot within its deadline, and sleeps until the next slot, woken by NOTIFY when
// checks change. No core is special: a dead core's checks fall due for the others.
import type pg from "pg";
import { createWakeableSleep, type NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { CHECK_SCHEDULE_CHANNEL, type ClaimedRun, claimDueRuns, nextDueIn } from "./check-schedule.ts";
import type { CoreLocationMetrics } from "./core-location-metrics.ts";
import type { CoreRuns } from "./core-runs.ts";

/** Runs one core process has claimed and not finished probing, at most. */
export const DEFAULT_CORE_CONCURRENCY = 500;
/**
 * Runs one core process has claimed and not stored, at most: probes done, their results wait
 * for the ingest's commit without holding a probe's place, but never pile up without bound
 * while the database is slow. Room for the ingest's batches to fill (2 × 1,000) while more
 * results arrive.
 */
export const DEFAULT_CORE_MAX_PENDING = 5_000;
/** Runs per claim statement, at most: a burst of due runs splits over the cores that wake for it. */
export const DEFAULT_CLAIM_BATCH = 100;
/**
 * Claim statements one core keeps on their way at once while they come back full (it is behind
 * its schedule): one at a time, a core runs at most a batch per claim round trip, and that
 * round trip waits for an event loop busy with thousands of runs (100 runs per 60 ms claim cap
 * it at ~1,600 runs/s). Each claim is a statement of its own, so they take no more locks.
 */
export const DEFAULT_CLAIMS_IN_FLIGHT = 3;
/** Slots due this soon are claimed with the ones due now and started by a local timer. */
export const DEFAULT_CLAIM_AHEAD_MS = 250;
/** The longest sleep: a safety net for a lost NOTIFY (the hub also wakes us after a reconnect). */
export const DEFAULT_MAX_IDLE_MS = 10_000;
/** After a claim found nothing due that another core was claiming at that instant. */
const CONTENDED_WAIT_MS = 5;
/** After the database failed a claim. */
const RETRY_WAIT_MS = 1_000;
/**
 * A full core waits for this many places (a tenth of its concurrency, at most a batch) before
 * it claims again, or this long after the first one freed: claims of a handful of runs each,
 * one per finished probe, would cost a statement per run.
 */
const refillOf = (concurrency: number, batchSize: number) => Math.max(1, Math.min(batchSize, Math.ceil(concurrency / 10)));
const REFILL_WAIT_MS = 10;

export interface CoreSchedulerOptions {
  pool: pg.Pool;
  /** Wakes the scheduler when a slot appears or moves earlier; without one it checks every maxIdleMs. */
  hub?: NotificationHub;
  runs: CoreRuns;
  metrics: CoreLocationMetrics;
  logger: Logger;
  /** Recorded as `claimed_by`. */
  instanceId: string;
  concurrency?: number;
  /** Runs claimed and not yet stored, at most (default DEFAULT_CORE_MAX_PENDING, at least the concurrency). */
  maxPending?: number;
  batchSize?: number;
  /** Claim statements on their way at once while they come back full (default DEFAULT_CLAIMS_IN_FLIGHT). */
  claimsInFlight?: number;
  claimAheadMs?: number;
  maxIdleMs?: number;
  /** The schedule's clock, for tests that move time; unset, the database's (shared by every core). */
  clock?: () => number;
}

export interface CoreScheduler {
  start(): Promise<void>;
  /** Stops claiming, aborts the runs in flight (their results are dropped) and waits for them. */
  stop(): Promise<void>;
  /** One claim of what is due and fits, its runs started; how many it claimed. The loop calls it; tests may too. */
  claimOnce(): Promise<number>;
  /** Resolves once no claimed run is waiting, going or being stored. */
  settled(): Promise<void>;
  /** Runs claimed and not finished: waiting for their slot, probing, or their result being stored. */
  inFlight(): number;
}

interface Run {
  controller: AbortController;
  startTimer: NodeJS.Timeout | undefined;
  /** Until its probe ended: the runs the concurrency bounds. */
  probing: boolean;
}

export function createCoreScheduler(options: CoreSchedulerOptions): CoreScheduler {
  const { pool, runs, metrics, instanceId } = options;
  const log = options.logger.child({ component: "core-scheduler" });
  const concurrency = options.concurrency ?? DEFAULT_CORE_CONCURRENCY;
  const maxPending = Math.max(concurrency, options.maxPending ?? DEFAULT_CORE_MAX_PENDING);
  const batchSize = options.batchSize ?? DEFAULT_CLAIM_BATCH;
  const claimsInFlight = Math.max(1, options.claimsInFlight ?? DEFAULT_CLAIMS_IN_FLIGHT);
  const aheadMs = options.claimAheadMs ?? DEFAULT_CLAIM_AHEAD_MS;
  const maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
  const at = () => (options.clock ? new Date(options.clock()) : undefined);
  const sleep = createWakeableSleep();
  const inFlight = new Set<Run>();
  let probing = 0;
  /** Places held for claims on their way: their runs start when the answer arrives. */
  let reserved = 0;
  const settledWaiters = new Set<() => void>();
  let running = false;
  let waitingForRoom = false;
  const refill = refillOf(concurrency, batchSize);
  let refillTimer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let unsubscribe: Array<() => unknown> = [];

  /** Runs this core can claim now: a probe's place free, and room for one more result pending. */
  const room = () => Math.min(concurrency - probing, maxPending - inFlight.size) - reserved;

  /** A place freed: a full core claims again once enough did, or soon after the first. */
  const roomFreed = () => {
    if (!waitingForRoom) return;
    if (room() >= refill) sleep.wake();
    else
      refillTimer ??= setTimeout(() => {
        refillTimer = undefined;
        sleep.wake();
      }, REFILL_WAIT_MS);
  };

  const probed = (run: Run) => {
    if (!run.probing) return;
    run.probing = false;
    probing -= 1;
    metrics.inFlight.dec();
    metrics.storing.inc();
    roomFreed();
  };

  const finish = (run: Run) => {
    if (run.probing) {
      run.probing = false;
      probing -= 1;
      metrics.inFlight.dec();
    } else metrics.storing.dec();
    inFlight.delete(run);
    roomFreed();
    if (inFlight.size === 0) for (const resolve of [...settledWaiters]) resolve();
  };

  /**
   * Local times are taken around the claim: the run starts no earlier than its slot (`received`
   * is after the database's now()) and is cut off before its deadline (`sent` is before it),
   * so the window the schedule reserved for it holds on this core's clock too.
   */
  const launch = (claim: ClaimedRun, sent: number, received: number) => {
    const run: Run = { controller: new AbortController(), startTimer: undefined, probing: true };
    inFlight.add(run);
    probing += 1;
    metrics.inFlight.inc();
    const startAt = received + claim.startsInMs;
    const deadline = sent + claim.startsInMs + claim.timeoutMs;
    // Inline arrows: a named one per run would be given a `name` by the runtime (tsx, with esbuild's keepNames).
    if (claim.startsInMs > 0) run.startTimer = setTimeout(() => void start(run, claim, startAt, deadline), Math.max(0, startAt - performance.now()));
    else void start(run, claim, startAt, deadline);
  };

  /** Starts a launched run at `startAt` (performance.now() time), to end by `deadline`. */
  const start = async (run: Run, claim: ClaimedRun, startAt: number, deadline: number) => {
    run.startTimer = undefined;
    const startedAt = performance.now();
    metrics.lag.observe((claim.lateMs + Math.max(0, startedAt - startAt)) / 1000);
    const budgetMs = deadline - startedAt;
    try {
      if (budgetMs <= 0) {
        log.warn({ checkId: claim.checkId, dueAt: claim.dueAt }, "skipped a core run: this core started it after its deadline (an overloaded event loop?)");
        return;
      }
      log.debug({ checkId: claim.checkId, dueAt: claim.dueAt }, "core check run started");
      await runs.runStored(
        { id: claim.checkId, type: claim.type, definition: claim.definition },
        {
          budgetMs,
          controller: run.controller,
          onProbed() {
            probed(run);
          },
        },
      );
    } catch (error) {
      log.warn({ err: error, checkId: claim.checkId }, "a core run's result was not stored; the check's next run will report again");
    } finally {
      finish(run);
    }
  };

  /** Claims what is due and fits; `full` when it took as many as it asked for (more may be due). */
  const claim = async (): Promise<{ claimed: number; full: boolean }> => {
    const limit = Math.min(room(), batchSize);
    if (limit <= 0) return { claimed: 0, full: false };
    const sent = performance.now();
    reserved += limit;
    let claims: ClaimedRun[];
    try {
      claims = await claimDueRuns(pool, { limit, claimedBy: instanceId, aheadMs, at: at() });
    } finally {
      reserved -= limit;
    }
    const received = performance.now();
    metrics.claimDuration.observe((received - sent) / 1000);
    for (const claimed of claims) launch(claimed, sent, received);
    return { claimed: claims.length, full: claims.length === limit };
  };

  /**
   * Claims until a claim comes back short (nothing more is due now) or no room is left, with up
   * to `claimsInFlight` claims on their way at once: a core behind its schedule sends the next
   * claim before the last one answered.
   */
  const claimBurst = async (): Promise<{ claimed: number; full: boolean }> => {
    let claimed = 0;
    let full = true;
    let failure: { error: unknown } | undefined;
    const going = new Set<Promise<void>>();
    for (;;) {
      while (running && full && failure === undefined && going.size < claimsInFlight && room() > 0) {
        const claiming: Promise<void> = claim().then(
          (answer) => {
            going.delete(claiming);
            claimed += answer.claimed;
            if (!answer.full) full = false;
          },
          (error: unknown) => {
            going.delete(claiming);
            failure ??= { error };
          },
        );
        going.add(claiming);
      }
      if (going.size === 0) break;
      await Promise.race(going);
    }
    if (failure) throw failure.error;
    return { claimed, full };
  };

  /** How long to sleep after a claim. */
  const pause = async ({ claimed, full }: { claimed: number; full: boolean }): Promise<number> => {
    if (room() <= 0) {
      // Set before any await: a run finishing from here on wakes the sleep to come.
      waitingForRoom = true;
      return maxIdleMs;
    }
    if (full) return 0;
    const dueIn = await nextDueIn(pool, at());
    if (dueIn === null) return maxIdleMs;
    const wait = dueIn - aheadMs;
    // Due but not claimed: another core held those rows at that instant; its claim moves them.
    if (wait <= 0) return claimed === 0 ? CONTENDED_WAIT_MS : 0;
    return Math.min(wait, maxIdleMs);
  };

  const settled = () =>
    inFlight.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const done = () => {
            settledWaiters.delete(done);
            resolve();
          };
          settledWaiters.add(done);
        });

  const runLoop = async () => {
    while (running) {
      let wait: number;
      try {
        wait = await pause(await claimBurst());
      } catch (error) {
        if (!running) break;
        log.warn({ err: error }, "claiming core check runs failed; retrying");
        wait = RETRY_WAIT_MS;
      }
      if (!running) break;
      if (wait === 0) continue;
      await sleep.sleep(wait);
      waitingForRoom = false;
      clearTimeout(refillTimer);
      refillTimer = undefined;
    }
  };

  return {
    async start() {
      if (running) return;
      running = true;
      if (options.hub) {
        unsubscribe.push(await options.hub.subscribe(CHECK_SCHEDULE_CHANNEL, () => sleep.wake()));
        unsubscribe.push(options.hub.onReconnect(() => sleep.wake()));
      }
      log.info({ concurrency }, "running the core location's checks");
      loop = runLoop();
    },
    async stop() {
      running = false;
      sleep.wake();
      await loop;
      loop = undefined;
      for (const release of unsubscribe) await release();
      unsubscribe = [];
      for (const run of inFlight) {
        if (run.startTimer) {
          clearTimeout(run.startTimer);
          finish(run);
        } else run.controller.abort(new DOMException("this core is stopping", "AbortError"));
      }
      await settled();
      clearTimeout(refillTimer);
      refillTimer = undefined;
      sleep.clear();
    },
    claimOnce: async () => (await claim()).claimed,
    settled,
    inFlight: () => inFlight.size,
  };
}
