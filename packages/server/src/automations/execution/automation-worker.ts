// The graphile-worker runner that executes automation runs: any instance takes `automation.run`
// jobs (started within milliseconds through LISTEN/NOTIFY) and hands them to the executor.
// Its pool holds a lease (`job_worker_leases`) it renews while it runs and gives up when it
// stops; if the process dies, the lease expires and the lease sweeper unlocks its jobs.
// Stopping interrupts the runs in progress: each leaves its job due at once for another core.
// Runs this core's router creates may skip the queue: handed over here after their batch
// commits, their jobs locked for this pool already (run-handoff.ts).
import { EventEmitter, setMaxListeners } from "node:events";
import { type BackoffPolicy, backoffDelayMs } from "@vantage/protocol";
import { run, type Runner, type WorkerEvents } from "graphile-worker";
import type pg from "pg";
import type { Logger } from "../../log.ts";
import { createWakeableSleep } from "../../cluster/index.ts";
import { createPool, jobQueueLogger } from "../../storage/index.ts";
import { AutomationTask, parseJobPayload } from "../runs/automation-jobs.ts";
import type { RunExecutor } from "./run-executor.ts";
import { createRunSlots, createSessionHandoffs, type RunHandoff, type SessionHandoffs } from "./run-handoff.ts";
import { DEFAULT_LEASE_RENEW_INTERVAL_MS, DEFAULT_LEASE_TTL_MS, releaseLease, renewLease } from "./worker-leases.ts";

export interface AutomationWorkerOptions {
  /** The worker opens its own small pool on this database, so jobs never starve the core's. */
  connectionString: string;
  /** The core's pool: where the worker's lease is written. */
  pool: pg.Pool;
  /** The core instance, recorded with the lease. */
  instanceId: string;
  executor: RunExecutor;
  /** Fires a `for:` timer whose duration ran out (createTimerFiring). Absent: this worker leaves timer jobs to others. */
  fireTimer?: (timerId: string) => Promise<void>;
  logger: Logger;
  /** Jobs executed at once by this instance. */
  concurrency?: number;
  /** How often to look for jobs that became due (delays) or were unlocked; new jobs arrive by NOTIFY. */
  pollIntervalMs?: number;
  /** How long the lease lasts without renewal. */
  leaseTtlMs?: number;
  /** How often the lease is renewed (well under leaseTtlMs). */
  leaseRenewIntervalMs?: number;
  /** Pause before the n-th attempt to replace a failed runner (tests make it short). */
  restartDelayMs?: (attempt: number) => number;
  /** Starts the graphile-worker runner (tests wrap it to observe or fail it). */
  runQueue?: typeof run;
  /** Observes a failed runner's replacement (tests, metrics), once it runs. */
  onRestart?: (workerId: string) => void;
}

export interface AutomationWorker extends RunHandoff {
  start(): Promise<void>;
  /**
   * Interrupts the runs in progress (their steps in flight are aborted, their jobs made due
   * again for another core), waits for their executions to return, then gives up the lease
   * and releases every connection. Idempotent.
   */
  stop(): Promise<void>;
  /** The graphile-worker pool id its jobs are locked by (and its lease's key), once started. */
  workerId(): string | undefined;
}

// Runs mostly wait on round trips and webhooks, not CPU: 12 at once left a mass outage waiting
// (bench/mass-outage), and so did 48 on a loaded machine, where each round trip waits for the
// scheduler. Runs in flight share two connections and their round trips (run-session.ts), and
// the local queue fetches and completes their jobs in batches, so more in flight costs no
// connections and makes each round trip carry more. 256, not 128: with the database's share
// of a run cut (per-statement run-status triggers), 128 slots were all busy waiting on round
// trips while the core idled; 256 ended a mass outage's backlog ~28 % faster at the same CPU
// per run (bench/mass-outage, docs/benchmarks/2026-12-03-mass-outage.md).
export const DEFAULT_WORKER_CONCURRENCY = 256;

/**
 * How long a job's completion waits for others to be sent with it. Nothing waits for it: a run
 * that ended deleted its job in the end's own transaction (graphile-worker's completion then
 * deletes nothing), and graphile-worker does not hold the job's slot (a later completion only
 * keeps a suspended or halted run's job locked longer). 100 ms, not 20: at the rates where runs
 * end one by one (tens a second) 20 ms sent nearly one completion per run, a round trip and a
 * commit each (bench/automation-latency --rate 30, socket writes per change).
 */
const COMPLETE_JOB_BATCH_MS = 100;

// The worker's own pool: the local queue's fetches, the batched completions and failures,
// graphile-worker's LISTEN connection; more only if they come at once.
const WORKER_POOL_SIZE = 6;

/** Pauses between attempts to start a runner again after it failed: 1 s, 2 s, 4 s … 60 s. */
export const RUNNER_RESTART_BACKOFF = { baseMs: 1_000, maxMs: 60_000, jitter: "none" } as const satisfies BackoffPolicy;

/** Pause before the restart-th attempt to start a runner again. */
export const defaultRestartDelayMs = (restart: number): number => backoffDelayMs(RUNNER_RESTART_BACKOFF, restart);

/** One graphile-worker runner with the lease of its pool. */
interface Session {
  runner: Runner;
  workerId: string;
  /** The runs this core's router hands over to this session. */
  handoffs: SessionHandoffs;
  /** Stops the runner (waiting for jobs in progress), the renewal, and gives up the lease. */
  stop(): Promise<void>;
}

export function createAutomationWorker(options: AutomationWorkerOptions): AutomationWorker {
  const log = options.logger.child({ component: "automation-worker" });
  const concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  const { fireTimer } = options;
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewIntervalMs = options.leaseRenewIntervalMs ?? DEFAULT_LEASE_RENEW_INTERVAL_MS;
  const runQueue = options.runQueue ?? run;
  const restartDelayMs = options.restartDelayMs ?? defaultRestartDelayMs;
  // Ours, not graphile-worker's: its own pool removes its error handlers before it ends, and a
  // connection the server cut meanwhile then crashed the process with an unhandled 'error'.
  let jobPool: pg.Pool | undefined;
  let session: Session | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  // The pause between restarts, which stop() cuts short.
  const pause = createWakeableSleep();
  // The runs graphile-worker fetched and those handed over share the worker's concurrency.
  const slots = createRunSlots(concurrency);

  const renew = (id: string) => renewLease(options.pool, { workerId: id, instanceId: options.instanceId, ttlMs });

  const startSession = async (): Promise<Session> => {
    // Aborted first when the session stops: the executions in progress return at once.
    const interrupt = new AbortController();
    // Every run in flight listens (its step's request, a retry's pause): not a leak.
    setMaxListeners(4 * concurrency, interrupt.signal);
    // graphile-worker 0.17 locks jobs with its pool's id (random, not configurable): read
    // it when the pool is created, and take the lease before any job runs.
    let workerId: string | undefined;
    let leased: Promise<void> | undefined;
    const events = new EventEmitter() as WorkerEvents;
    events.once("pool:create", ({ workerPool }) => {
      workerId = workerPool.id;
      leased = renew(workerPool.id).then(() => undefined);
      leased.catch(() => undefined); // awaited below and by every task
    });
    // The worker pool's commits do not wait for the WAL flush: they only lock jobs, return them,
    // push a failed one's retry later, and complete jobs whose runs ended in a transaction of
    // their own (the run's end completes its job, run-session.ts). A database crash that loses
    // one is the same as a core crash just before it: the job is locked again, or unlocked by the
    // lease sweeper, and its next execution finds the run's records as committed (a claim waits
    // for the run's lock; an ended run is not claimed). At 200 changes/s each fetch waited for a
    // flush of its own (bench/automation-latency: sessions waiting on WALWrite and WalSync).
    jobPool ??= createPool(options.connectionString, log, { max: WORKER_POOL_SIZE, applicationName: "vantage-worker", loseableCommits: true });
    const runner = await runQueue({
      pgPool: jobPool,
      concurrency,
      // Never read a `crontab` file from the working directory (graphile-worker's default):
      // an unrelated one stopped the core, a parseable one would have scheduled jobs.
      parsedCronItems: [],
      pollInterval: options.pollIntervalMs ?? 1_000,
      // The core handles signals and stops the worker in its ordered shutdown.
      noHandleSignals: true,
      logger: jobQueueLogger(options.logger),
      events,
      // Marking a job done or failed through the batcher (delay 0: no waiting) retries on
      // connection errors and ends the runner with a fatal error it reports (we restart it);
      // unbatched, graphile-worker 0.17 leaves such a failure as an unhandled rejection.
      // The local queue takes jobs a batch at a time (one round trip for up to `concurrency`
      // jobs, where each worker slot asked for its own): a mass outage enqueues thousands at
      // once. Jobs waiting in it are locked by this pool, so a lease that expires frees them too.
      // Completions wait COMPLETE_JOB_BATCH_MS to go together: with no wait, a mass outage
      // sent one nearly per run (a fifth of the core's socket writes, bench/mass-outage).
      // A job completed late is only locked longer: if the process dies first, the run it
      // executed has ended and its next execution finds nothing to do.
      preset: { worker: { completeJobBatchDelay: COMPLETE_JOB_BATCH_MS, failJobBatchDelay: 0, localQueue: { size: concurrency } } },
      taskList: {
        // A payload that is not ours is a bug: throwing leaves the job for graphile-worker to retry and report.
        // The run's end completes its job in the end's transaction: graphile-worker's own
        // completion, a batch later, then finds nothing to delete and commits no write.
        [AutomationTask.run]: async (payload, helpers) => {
          const { runId } = parseJobPayload(AutomationTask.run, payload);
          await leased;
          await slots.take();
          try {
            await options.executor.execute(runId, interrupt.signal, helpers.job.id);
          } finally {
            slots.release();
          }
        },
        ...(fireTimer && {
          [AutomationTask.timer]: async (payload: unknown) => {
            await leased;
            await fireTimer(parseJobPayload(AutomationTask.timer, payload).timerId);
          },
        }),
      },
    });
    if (!workerId || !leased) {
      await runner.stop();
      throw new Error("graphile-worker did not report its worker pool");
    }
    const id = workerId;
    try {
      await leased;
    } catch (error) {
      await runner.stop();
      throw error;
    }
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renew(id).then(
        (held) => {
          // Not renewed in time: the sweeper may have unlocked jobs this process is still executing.
          if (!held) log.error({ workerId: id }, "the automation worker's lease had expired; its jobs in progress may be resumed elsewhere too");
        },
        (error: unknown) => log.warn({ err: error, workerId: id }, "could not renew the automation worker's lease"),
      );
    }, renewIntervalMs);
    // Offered to the router only now: the lease covers the id its jobs are locked by.
    const handoffs = createSessionHandoffs({
      workerId: id,
      jobPool,
      slots,
      execute: (handed) => options.executor.executeHanded(handed, interrupt.signal),
      completeBatchMs: COMPLETE_JOB_BATCH_MS,
      logger: options.logger,
    });
    let ending: Promise<void> | undefined;
    return {
      runner,
      workerId: id,
      handoffs,
      stop: () =>
        (ending ??= (async () => {
          interrupt.abort();
          clearInterval(timer);
          // Both before the lease goes: the handed-over runs' jobs are locked by this pool too.
          // A runner that already stopped on its own (an error it reported) rejects stop().
          await Promise.all([handoffs.stop(), runner.stop().catch(() => undefined)]);
          await runner.promise.catch(() => undefined);
          await renewing;
          // Unreleased (the database is away), the lease expires and the sweeper unlocks its jobs.
          await releaseLease(options.pool, id).catch((error: unknown) =>
            log.warn({ err: error, workerId: id }, "could not release the automation worker's lease"),
          );
        })()),
    };
  };

  // A runner that fails (it could not record a job's end through a long database outage)
  // is replaced, after a growing pause, until one starts: the core never silently stops
  // executing runs.
  const replace = async (failed: Session) => {
    await failed.stop();
    for (let attempt = 1; !stopped; attempt++) {
      await pause.sleep(restartDelayMs(attempt));
      if (stopped) return;
      try {
        const next = await startSession();
        if (stopped) return await next.stop();
        session = next;
        watch(next);
        log.info({ workerId: next.workerId, attempt }, "the automation worker's runner started again");
        options.onRestart?.(next.workerId);
        return;
      } catch (error) {
        log.error({ err: error, attempt }, "could not start the automation worker's runner; trying again");
      }
    }
  };

  const watch = (current: Session) => {
    current.runner.promise.catch((error: unknown) => {
      if (stopped) return;
      log.error({ err: error, workerId: current.workerId }, "the automation worker's runner failed; starting a new one");
      restarting = replace(current);
    });
  };

  return {
    async start() {
      session = await startSession();
      watch(session);
    },
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        pause.wake();
        await restarting;
        pause.clear();
        await session?.stop();
        await jobPool?.end();
      })()),
    workerId: () => session?.workerId,
    // A failed session is stopping (replace), and a stopping one reserves nothing.
    reserve: (wanted) => (stopped ? undefined : session?.handoffs.reserve(wanted)),
  };
}
