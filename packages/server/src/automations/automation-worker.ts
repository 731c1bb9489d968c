// The graphile-worker runner that executes automation runs: any instance takes `automation.run`
// jobs (started within milliseconds through LISTEN/NOTIFY) and hands them to the executor.
import { run, type Runner } from "graphile-worker";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { jobQueueLogger } from "../storage/index.ts";
import { RUN_TASK } from "./automation-runs.ts";
import type { RunExecutor } from "./run-executor.ts";

export interface AutomationWorkerOptions {
  /** graphile-worker opens its own small pool (concurrency + 2), so jobs never starve the core's. */
  connectionString: string;
  executor: RunExecutor;
  logger: Logger;
  /** Jobs executed at once by this instance. */
  concurrency?: number;
  /** How often to look for jobs that became due (delays); new jobs arrive by NOTIFY. */
  pollIntervalMs?: number;
}

export interface AutomationWorker {
  start(): Promise<void>;
  /** Waits for the jobs in progress, then releases every connection. Idempotent. */
  stop(): Promise<void>;
}

const runPayloadSchema = z.object({ runId: z.uuid() });

export const DEFAULT_WORKER_CONCURRENCY = 4;

export function createAutomationWorker(options: AutomationWorkerOptions): AutomationWorker {
  const concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  let runner: Runner | undefined;
  let stopping: Promise<void> | undefined;
  return {
    async start() {
      runner = await run({
        connectionString: options.connectionString,
        maxPoolSize: concurrency + 2,
        concurrency,
        pollInterval: options.pollIntervalMs ?? 1_000,
        // The core handles signals and stops the worker in its ordered shutdown.
        noHandleSignals: true,
        logger: jobQueueLogger(options.logger),
        taskList: {
          // A payload that is not ours is a bug: throwing leaves the job for graphile-worker to retry and report.
          [RUN_TASK]: (payload) => options.executor.execute(runPayloadSchema.parse(payload).runId),
        },
      });
    },
    stop: () => (stopping ??= runner ? runner.stop() : Promise.resolve()),
  };
}
