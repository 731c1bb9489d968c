// Runs handed from this core's router to this core's worker without the job queue's round trips.
// Today a run the router creates gets a job through add_jobs, whose NOTIFY wakes graphile-worker,
// whose local queue then fetches it (get_jobs, a round trip on the worker's pool) before our task
// executes it. When this core's worker has free slots, the router's transaction instead inserts
// the runs already claimed — 'running', started then — and their jobs already locked by the
// worker's pool id (the id its lease covers: automation-jobs.ts, insertLockedRunJobs), and once
// that transaction committed the sink hands each run here with what the executor's claim would
// have read of it (automation-runs.ts, HandedRun): executed within the worker's concurrency, as a
// fetched job is, its job completed or failed as graphile-worker would.
//
// No claim: the execution's first write tries the run's session lock on its shared connection and
// reads whether the run is still the row version the router inserted (run-record-batches.ts,
// tryLockRunsStatement) — two reads, no transaction, no UPDATE, and no pending → running change
// recorded (the run's created change records 'running'). A run cancelled since, or claimed by
// another execution since, is claimed as any run is; one whose lock is held elsewhere waits for
// it on a connection of its own, then is claimed (run-session.ts, withHandedRun). When the
// executor has the run's definition compiled, the opening rides with the first step's start (one
// round trip, the start stored only if the opening found the run as handed), and the step
// executes once that is answered: a lost start is a lost marker, as for any start.
//
// Crash windows (the job is the durable record; the claim that any later execution makes, and the
// steps, do the rest):
// - before COMMIT: the runs and their jobs roll back together; nothing to execute.
// - after COMMIT, before or during the execution (the process dies): the runs are 'running' with
//   no step recorded (or some), their jobs locked by this pool until its lease expires; the lease
//   sweeper then unlocks them and any core fetches them. That core's claim takes a run that is
//   'running' as a resumed one (it loads the steps recorded and continues after the last), skips
//   one that ended or was cancelled: executed once. A slow process of ours that opens the run
//   after that claim finds the row changed (or the lock held) and takes the claim's path too.
// - COMMIT sent, its answer lost (the router's connection failed): the jobs may exist, locked by
//   a pool that is alive and renewing its lease, which no sweeper would unlock. The reservation is
//   abandoned: its runs' jobs are unlocked by key if they exist (due at once, for any worker,
//   whose claim takes the 'running' run as above).
//   (One narrower window remains, as for graphile-worker's own get_jobs whose answer is lost: a
//   COMMIT that lands after that unlock. Its jobs stay locked until this pool's lease ends, when
//   the core stops or dies.)
// - the execution throws (a database error): the job is unlocked with graphile-worker's backoff.
// - the worker stops: executions in progress are interrupted (the executor makes the run's job
//   due again) and awaited; runs handed over after the stop began are not started: their jobs are
//   unlocked, due at once. The lease is given up only after all that, so a job locked by this pool
//   never outlives both its execution and the lease.
import type pg from "pg";
import { backoffDelayMs } from "@vantage/protocol";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../log.ts";
import { type SqlStatement, statementName } from "../../entities/index.ts";
import { completeLockedJobsStatement, failLockedJobStatement, returnLockedJobsStatement, returnLockedRunJobsStatement } from "../runs/automation-jobs.ts";
import type { HandedRun } from "../runs/automation-runs.ts";

/**
 * The worker's execution slots, shared by the runs graphile-worker fetches and the runs handed
 * over: together they never exceed the worker's concurrency.
 */
export interface RunSlots {
  /** Waits for a slot (a fetched job: it is locked already and waits its turn). */
  take(): Promise<void>;
  /** Takes up to `wanted` free slots at once, none while fetched jobs wait (they were due first). */
  tryTake(wanted: number): number;
  release(count?: number): void;
}

export function createRunSlots(limit: number): RunSlots {
  let free = limit;
  const waiting: Array<() => void> = [];
  return {
    take() {
      if (free > 0 && waiting.length === 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    tryTake(wanted) {
      if (waiting.length > 0) return 0;
      const taken = Math.max(0, Math.min(wanted, free));
      free -= taken;
      return taken;
    },
    release(count = 1) {
      for (let i = 0; i < count; i++) {
        // A freed slot goes to a waiting fetched job first.
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}

/** What the router's sink asks of this core's worker (automation-sink.ts). */
export interface RunHandoff {
  /**
   * Reserves up to `wanted` slots for runs a router batch is about to record; undefined when the
   * worker takes no runs this way now (not started, stopping, or every slot busy).
   */
  reserve(wanted: number): HandoffReservation | undefined;
}

/** Slots held for one router batch until its transaction ends: exactly one of start, cancel, abandon. */
export interface HandoffReservation {
  /** The pool that locks the batch's jobs. */
  workerId: string;
  /** How many runs may be handed over. */
  slots: number;
  /** The batch committed: executes these runs (their jobs locked by workerId) and frees the other slots. */
  start(runs: readonly HandedRun[]): void;
  /** The batch rolled back: frees the slots. */
  cancel(): void;
  /** The batch's end is unknown: frees the slots, and unlocks these runs' jobs if they committed. */
  abandon(runIds: readonly string[]): void;
}

/** One worker session's handoffs: reserve for the sink, stop with the session. */
export interface SessionHandoffs extends RunHandoff {
  /** Takes no more runs; waits for open reservations and executions, then for their jobs' writes. */
  stop(): Promise<void>;
}

export interface SessionHandoffOptions {
  /** The session's graphile-worker pool id (its lease covers it). */
  workerId: string;
  /** The worker's pool: the jobs' completions, failures and unlocks. */
  jobPool: pg.Pool;
  slots: RunSlots;
  /** Executes a handed run (the session's interrupt; its job, which the run's end completes). */
  execute(handed: HandedRun): Promise<void>;
  /** How long a completion waits for others to be sent with it. */
  completeBatchMs: number;
  logger: Logger;
}

// A job write that fails is tried again a few times; then the job stays locked until this pool's
// lease ends (the sweeper unlocks it), as a graphile-worker completion that fails does.
const JOB_WRITE_ATTEMPTS = 5;
const JOB_WRITE_BACKOFF = { baseMs: 100, maxMs: 2_000, jitter: "none" } as const;

export function createSessionHandoffs(options: SessionHandoffOptions): SessionHandoffs {
  const { workerId, jobPool, slots } = options;
  const log = options.logger.child({ component: "run-handoff", workerId });
  let stopping = false;
  // Reservations not yet settled, executions in progress, job writes in flight.
  const open = new Set<Promise<void>>();
  const track = (promise: Promise<void>) => {
    open.add(promise);
    void promise.finally(() => open.delete(promise));
  };

  const write = async (statement: SqlStatement, what: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        // Named, so prepared once per connection: the completions go every few ms at load.
        await jobPool.query({ name: statementName(statement.text), text: statement.text, values: statement.values as unknown[] });
        return;
      } catch (error) {
        if (attempt >= JOB_WRITE_ATTEMPTS) {
          log.error({ err: error }, `could not ${what}; the jobs stay locked until this worker's lease ends`);
          return;
        }
        await sleep(backoffDelayMs(JOB_WRITE_BACKOFF, attempt));
      }
    }
  };

  // Completions wait completeBatchMs to go together, as graphile-worker's do: a run that ended
  // deleted its job in its own transaction, so this mostly deletes nothing; a suspended or halted
  // run's job is deleted here (its next job exists already). Nothing waits for it.
  let completions: string[] = [];
  let completionTimer: NodeJS.Timeout | undefined;
  const flushCompletions = () => {
    clearTimeout(completionTimer);
    completionTimer = undefined;
    if (completions.length === 0) return;
    const jobIds = completions;
    completions = [];
    track(write(completeLockedJobsStatement(jobIds, workerId), "complete handed-over jobs"));
  };
  const complete = (jobId: string) => {
    completions.push(jobId);
    completionTimer ??= setTimeout(flushCompletions, options.completeBatchMs);
  };

  const executeHanded = async (handed: HandedRun) => {
    const { runId, jobId } = handed;
    try {
      await options.execute(handed);
      complete(jobId);
    } catch (error) {
      log.warn({ err: error, runId, jobId }, "a handed-over run's execution failed; its job is retried later");
      await write(failLockedJobStatement(jobId, workerId, error instanceof Error ? error.message : String(error)), "fail a handed-over job");
    } finally {
      slots.release();
    }
  };

  return {
    reserve(wanted) {
      if (stopping || wanted <= 0) return undefined;
      const taken = slots.tryTake(wanted);
      if (taken === 0) return undefined;
      let settle!: () => void;
      track(new Promise<void>((resolve) => (settle = resolve)));
      let settled = false;
      const once = (fn: () => void) => {
        if (settled) return;
        settled = true;
        try {
          fn();
        } finally {
          settle();
        }
      };
      return {
        workerId,
        slots: taken,
        start: (runs) =>
          once(() => {
            const handed = runs.slice(0, taken);
            slots.release(taken - handed.length);
            if (stopping) {
              // Stopping since the batch began: not started here, due at once for any worker.
              slots.release(handed.length);
              if (handed.length > 0)
                track(
                  write(
                    returnLockedJobsStatement(
                      handed.map((run) => run.jobId),
                      workerId,
                    ),
                    "return handed-over jobs",
                  ),
                );
              return;
            }
            for (const run of handed) track(executeHanded(run));
          }),
        cancel: () => once(() => slots.release(taken)),
        abandon: (runIds) =>
          once(() => {
            slots.release(taken);
            if (runIds.length > 0) track(write(returnLockedRunJobsStatement(runIds, workerId), "unlock the jobs of a batch whose commit is unknown"));
          }),
      };
    },
    async stop() {
      stopping = true;
      // Settling reservations and executions may add writes: wait until nothing is left.
      while (open.size > 0 || completions.length > 0) {
        flushCompletions();
        await Promise.allSettled([...open]);
      }
    },
  };
}
