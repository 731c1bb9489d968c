// Executes one run's actions in order, storing each step's outcome before the next starts,
// so a run started again (another job, another process) skips its completed steps.
// pending → running → succeeded | failed; delays wait in the queue, not in memory.
import { setTimeout as sleep } from "node:timers/promises";
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import type { EntityRegistry } from "../entities/index.ts";
import type { Logger } from "../log.ts";
import type { NotificationService } from "../notifications/index.ts";
import { delayAction } from "./actions/delay-action.ts";
import { logAction } from "./actions/log-action.ts";
import { createNotifyAction } from "./actions/notify-action.ts";
import { type ActionKind, type ActionModule, type ActionModules, defaultRetryDelayMs, type StepContext, type StepOutcome } from "./actions/step.ts";
import { stopAction } from "./actions/stop-action.ts";
import { unsupportedAction } from "./actions/unsupported-action.ts";
import { webhookAction } from "./actions/webhook-action.ts";
import { type CompileOptions, type CompiledAction, type CompiledAutomation, compileAutomation } from "./compile-automation.ts";
import { entityReader } from "./entity-reader.ts";
import type { EvaluationContext } from "./expressions/index.ts";
import { type ClaimedRun, claimRun, countAttempt, finishRun, finishStep, loadSteps, type StepStatus, startStep, waitStep } from "./run-records.ts";

export interface RunExecutorOptions extends CompileOptions {
  pool: pg.Pool;
  /** `entity(kind, id)` in templates reads current state through these handles. */
  entities: Pick<EntityRegistry, "entity">;
  notifications: Pick<NotificationService, "send" | "channels">;
  logger: Logger;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /** Pause after the attempt-th failed attempt of a retried step (tests make it 0). */
  retryDelayMs?: (attempt: number) => number;
  /** Observes stored outcomes (tests, metrics): called after each write commits. */
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent = { runId: string; type: "step"; path: string; status: StepStatus } | { runId: string; type: "run"; status: "succeeded" | "failed" };

export interface RunExecutor {
  /** Executes (or resumes) the run; returns when it ended or waits on a delay. Throws on database errors, so the job is retried. */
  execute(runId: string): Promise<void>;
}

export function createRunExecutor(options: RunExecutorOptions): RunExecutor {
  const { pool } = options;
  const log = options.logger.child({ component: "run-executor" });
  const now = options.now ?? Date.now;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const emit = (event: RunEvent) => options.onEvent?.(event);
  const modules: ActionModules = {
    log: logAction,
    webhook: webhookAction,
    notify: createNotifyAction(options.notifications),
    delay: delayAction,
    stop: stopAction,
    wait_until: unsupportedAction,
    choose: unsupportedAction,
    parallel: unsupportedAction,
  };
  // Compiled once per automation version, not per run.
  const compiledCache = new Map<string, { version: number; compiled: CompiledAutomation | string }>();

  const compiled = (run: ClaimedRun): CompiledAutomation | string => {
    const cached = compiledCache.get(run.automationId);
    if (cached?.version === run.automationVersion) return cached.compiled;
    const result = compileAutomation(run.definition, options);
    const value = result.ok ? result.compiled : `the definition no longer compiles: ${result.errors.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`;
    compiledCache.set(run.automationId, { version: run.automationVersion, compiled: value });
    return value;
  };

  const end = async (runId: string, result: { status: "succeeded" | "failed"; error?: string; stopReason?: string | null }) => {
    await finishRun(pool, runId, result);
    emit({ runId, type: "run", status: result.status });
  };

  const finish = async (runId: string, path: string, result: { status: "succeeded" | "failed"; output?: JsonValue; error?: string }) => {
    await finishStep(pool, runId, path, result);
    emit({ runId, type: "step", path, status: result.status });
  };

  const runStep = async (run: ClaimedRun, action: CompiledAction, evaluation: EvaluationContext): Promise<StepOutcome> => {
    const context: StepContext = {
      runId: run.id,
      path: action.path,
      automation: { id: run.automationId, name: run.automationName },
      evaluation,
      logger: options.logger,
      now,
      countAttempt: () => countAttempt(pool, run.id, action.path),
      backoff: (attempt) => sleep(retryDelayMs(attempt)),
    };
    const prepared = await (modules[action.kind] as ActionModule<ActionKind>)(action, context);
    await startStep(pool, run.id, action.path, action.kind, prepared.input);
    emit({ runId: run.id, type: "step", path: action.path, status: "running" });
    return prepared.execute();
  };

  return {
    async execute(runId) {
      const run = await claimRun(pool, runId);
      if (!run) return; // ended, cancelled or deleted: a late or repeated job does nothing
      if (run.trigger.forMs !== null) return end(runId, { status: "failed", error: "triggers with `for:` are not supported by the run engine yet" });
      const automation = compiled(run);
      if (typeof automation === "string") return end(runId, { status: "failed", error: automation });
      const steps = await loadSteps(pool, runId);
      const evaluation: EvaluationContext = {
        trigger: { id: run.trigger.triggerId, event: run.trigger.event, payload: run.trigger.payload },
        vars: {},
        entity: entityReader(options.entities),
        now: now(),
      };
      for (const action of automation.actions) {
        const { path } = action;
        const record = steps.get(path);
        if (record?.status === "succeeded") {
          // A stop step that completed before a crash still ends the run.
          if (action.kind === "stop") return end(runId, { status: "succeeded", stopReason: (record.output as { reason?: string | null } | null)?.reason ?? null });
          continue;
        }
        if (record?.status === "failed") {
          if (action.continueOnError) continue;
          return end(runId, { status: "failed", error: `step ${path} failed` });
        }
        if (record?.status === "waiting") {
          if (!record.due) return waitStep(pool, runId, path, 0); // woken early: keep the due time, sleep again
          await finish(runId, path, { status: "succeeded" });
          continue;
        }
        const outcome = await runStep(run, action, evaluation);
        switch (outcome.status) {
          case "succeeded":
            await finish(runId, path, { status: "succeeded", output: outcome.output });
            break;
          case "failed":
            await finish(runId, path, { status: "failed", output: outcome.output, error: outcome.error });
            log.warn({ runId, step: path, error: outcome.error, continueOnError: action.continueOnError }, "automation step failed");
            if (!action.continueOnError) return end(runId, { status: "failed", error: `step ${path} failed: ${outcome.error}` });
            break;
          case "waiting":
            await waitStep(pool, runId, path, outcome.delayMs);
            emit({ runId, type: "step", path, status: "waiting" });
            return;
          case "stopped":
            await finish(runId, path, { status: "succeeded", output: { reason: outcome.reason } });
            return end(runId, { status: "succeeded", stopReason: outcome.reason });
        }
      }
      await end(runId, { status: "succeeded" });
    },
  };
}
