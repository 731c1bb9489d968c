// The graphile-worker runner that executes automation runs: any instance takes `automation.run`
// jobs (started within milliseconds through LISTEN/NOTIFY) and hands them to the executor.
// Its pool holds a lease (`job_worker_leases`) it renews while it runs and gives up when it
// stops; if the process dies, the lease expires and the lease sweeper unlocks its jobs.
import { EventEmitter } from "node:events";
import { run, type Runner, type WorkerEvents } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { jobQueueLogger } from "../storage/index.ts";
import { RUN_TASK } from "./automation-runs.ts";
import type { RunExecutor } from "./run-executor.ts";
import { TIMER_TASK } from "./trigger-timers.ts";
import { DEFAULT_LEASE_RENEW_INTERVAL_MS, DEFAULT_LEASE_TTL_MS, releaseLease, renewLease } from "./worker-leases.ts";

export interface AutomationWorkerOptions {
  /** graphile-worker opens its own small pool (concurrency + 2), so jobs never starve the core's. */
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
}

export interface AutomationWorker {
  start(): Promise<void>;
  /** Waits for the jobs in progress, then gives up the lease and releases every connection. Idempotent. */
  stop(): Promise<void>;
  /** The graphile-worker pool id its jobs are locked by (and its lease's key), once started. */
  workerId(): string | undefined;
}

const runPayloadSchema = z.object({ runId: z.uuid() });
const timerPayloadSchema = z.object({ timerId: z.uuid() });

export const DEFAULT_WORKER_CONCURRENCY = 4;

export function createAutomationWorker(options: AutomationWorkerOptions): AutomationWorker {
  const log = options.logger.child({ component: "automation-worker" });
  const concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  const { fireTimer } = options;
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewIntervalMs = options.leaseRenewIntervalMs ?? DEFAULT_LEASE_RENEW_INTERVAL_MS;
  let runner: Runner | undefined;
  let stopping: Promise<void> | undefined;
  let workerId: string | undefined;
  let leased: Promise<void> | undefined;
  let renewing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const renew = (id: string) => renewLease(options.pool, { workerId: id, instanceId: options.instanceId, ttlMs });

  return {
    async start() {
      // graphile-worker 0.17 locks jobs with its pool's id (random, not configurable): read
      // it when the pool is created, and take the lease before any job runs.
      const events = new EventEmitter() as WorkerEvents;
      events.once("pool:create", ({ workerPool }) => {
        workerId = workerPool.id;
        leased = renew(workerPool.id).then(() => undefined);
        leased.catch(() => undefined); // awaited below and by every task
      });
      runner = await run({
        connectionString: options.connectionString,
        maxPoolSize: concurrency + 2,
        concurrency,
        pollInterval: options.pollIntervalMs ?? 1_000,
        // The core handles signals and stops the worker in its ordered shutdown.
        noHandleSignals: true,
        logger: jobQueueLogger(options.logger),
        events,
        // Marking a job done or failed through the batcher (delay 0: no waiting) retries on
        // connection errors and ends the runner with a fatal error it reports; unbatched,
        // graphile-worker 0.17 leaves such a failure as an unhandled rejection.
        preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
        taskList: {
          // A payload that is not ours is a bug: throwing leaves the job for graphile-worker to retry and report.
          [RUN_TASK]: async (payload) => {
            await leased;
            await options.executor.execute(runPayloadSchema.parse(payload).runId);
          },
          ...(fireTimer && {
            [TIMER_TASK]: async (payload: unknown) => {
              await leased;
              await fireTimer(timerPayloadSchema.parse(payload).timerId);
            },
          }),
        },
      });
      runner.promise.catch((error: unknown) => log.error({ err: error }, "the automation worker stopped with an error"));
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
      timer = setInterval(() => {
        renewing = renew(id).then(
          (held) => {
            // Not renewed in time: the sweeper may have unlocked jobs this process is still executing.
            if (!held) log.error({ workerId: id }, "the automation worker's lease had expired; its jobs in progress may be resumed elsewhere too");
          },
          (error: unknown) => log.warn({ err: error, workerId: id }, "could not renew the automation worker's lease"),
        );
      }, renewIntervalMs);
    },
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        if (!runner) return;
        // A runner that already stopped on its own (an error it logged) rejects stop().
        await runner.stop().catch(() => undefined);
        await runner.promise.catch(() => undefined);
        await renewing;
        if (workerId) await releaseLease(options.pool, workerId).catch((error: unknown) => log.warn({ err: error, workerId }, "could not release the automation worker's lease"));
      })()),
    workerId: () => workerId,
  };
}
