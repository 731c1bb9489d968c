// Executes one run's actions, storing each step's outcome before the next starts, so a run
// started again (another job, another process) skips its completed steps. One execution per
// run at a time (a session advisory lock); waits (delay, wait_until) suspend the run until its
// job is due again, they never sleep in memory. pending → running → succeeded | failed; a run
// the router handed over is created running (run-handoff.ts).
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { SecretBox } from "../../crypto/index.ts";
import type { EntityRegistry } from "../../entities/index.ts";
import { isVantageError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { NotificationService } from "../../notifications/index.ts";
import { withTransaction } from "../../storage/index.ts";
import { chooseAction } from "./flow/choose-action.ts";
import { delayAction } from "./actions/delay-action.ts";
import { endedStep, type Flow, type FlowContext, type FlowModule, HALTED, NEXT, stepFailed, SUSPENDED } from "./flow/flow.ts";
import { logAction } from "./actions/log-action.ts";
import { createNotifyAction } from "./actions/notify-action.ts";
import { parallelAction } from "./flow/parallel-action.ts";
import { type ActionKind, type ActionModule, type ActionModules, type ActionOf, defaultRetryDelayMs, type LeafKind, type StepContext } from "./actions/step.ts";
import { stopAction } from "./actions/stop-action.ts";
import { waitUntilAction } from "./flow/wait-until-action.ts";
import { webhookAction } from "./actions/webhook-action.ts";
import type { AutomationCompiler } from "../definitions/automation-compiler.ts";
import type { CompiledAutomation } from "../definitions/compile-automation.ts";
import { entityReader } from "../definitions/entity-reader.ts";
import {
  type ClaimedRun,
  recordRanStepStatement,
  requeueRun,
  type RunEnd,
  type StepRecord,
  type StepStatus,
  scheduleRun,
  settleStep,
  waitStep,
} from "../runs/run-records.ts";
import { createRunSessions, type OpenedRun, type RunSession } from "./run-session.ts";
import type { HandedRun } from "../runs/automation-runs.ts";
import { holdWakes } from "../runs/run-waits.ts";
import { openSecrets } from "../definitions/webhook-secrets.ts";

export interface RunExecutorOptions {
  pool: pg.Pool;
  /** The instance's one compiler: a run executes its automation's version compiled again. */
  compiler: AutomationCompiler;
  /** `entity(kind, id)` in templates and conditions reads current state through these handles. */
  entities: Pick<EntityRegistry, "entity">;
  notifications: Pick<NotificationService, "send" | "channels">;
  /** Opens the webhook secrets the automation store sealed. */
  box: SecretBox;
  logger: Logger;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /** Pause after the attempt-th failed attempt of a retried step (tests make it 0). */
  retryDelayMs?: (attempt: number) => number;
  /** Connections shared by the runs in flight (their locks and records); default DEFAULT_RUN_SESSION_CONNECTIONS. */
  sessionConnections?: number;
  /**
   * Announces the run-status changes of the runs' batched writes after they committed
   * (a ChangeNotifier's announce), instead of a NOTIFY inside each (migration 0035).
   */
  announceChanges?: () => void;
  /** Observes stored outcomes (tests, metrics): called after each write commits. */
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent = { runId: string; type: "step"; path: string; status: StepStatus } | { runId: string; type: "run"; status: "succeeded" | "failed" };

export interface RunExecutor {
  /**
   * Executes (or resumes) the run; returns when it ended, waits, or was cancelled. Throws on
   * database errors, so the job is retried. When `interrupt` aborts (the core is stopping),
   * the step in flight is abandoned unrecorded and the run's job is made due again for
   * another execution to resume it. `jobId`: the graphile-worker job executing the run, which
   * the run's end completes in its own transaction.
   */
  execute(runId: string, interrupt?: AbortSignal, jobId?: string): Promise<void>;
  /**
   * Executes a run the router handed over already claimed (run-handoff.ts): as `execute`, but
   * without the claim while the run is still as the router inserted it (run-session.ts, withHandedRun).
   */
  executeHanded(handed: HandedRun, interrupt?: AbortSignal): Promise<void>;
}

// A run in flight sends a few small statements a round trip apart, mostly waiting on its
// webhook, and the runs on one connection share its round trips (run-session.ts): two
// connections carry dozens of runs, and fewer connections make fuller round trips.
export const DEFAULT_RUN_SESSION_CONNECTIONS = 2;

/**
 * What the executor takes of the core's pool at most, by default: the shared connections, the
 * runs' ends' (run-session.ts, ENDS APART), and a few more for runs that wait for their lock on
 * a connection of their own (executed twice at once) or write through the pool (waits, suspensions).
 */
export const EXECUTOR_POOL_CONNECTIONS = DEFAULT_RUN_SESSION_CONNECTIONS + 1 + 6;

/** The leaf action modules by kind: the executor's, and the one test support runs a step with. */
export function createActionModules(notifications: Pick<NotificationService, "send" | "channels">): ActionModules {
  return { log: logAction, webhook: webhookAction, notify: createNotifyAction(notifications), delay: delayAction, stop: stopAction };
}

export function createRunExecutor(options: RunExecutorOptions): RunExecutor {
  const { pool } = options;
  const log = options.logger.child({ component: "run-executor" });
  const now = options.now ?? Date.now;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const emit = (event: RunEvent) => options.onEvent?.(event);
  const sessions = createRunSessions(pool, {
    connections: options.sessionConnections ?? DEFAULT_RUN_SESSION_CONNECTIONS,
    announce: options.announceChanges,
  });
  const modules = createActionModules(options.notifications);
  // Compiled once per automation version, not per run.
  const compiledCache = new Map<string, { version: number; compiled: CompiledAutomation | string }>();

  // `known`: this version compiled when the run was opened without its definition (a handed
  // run), kept even if the cache moved on to another version meanwhile.
  const compiled = (run: ClaimedRun, known?: CompiledAutomation | string): CompiledAutomation | string => {
    const cached = compiledCache.get(run.automationId);
    if (cached?.version === run.automationVersion) return cached.compiled;
    if (known !== undefined) return known;
    let definition: unknown;
    try {
      definition = openSecrets(run.definition, options.box, run.automationId);
    } catch (error) {
      if (!isVantageError(error)) throw error;
      return `the webhook secrets cannot be opened: ${error.message}`; // not cached: the key may be fixed
    }
    const result = options.compiler.compile(definition);
    const value = result.ok
      ? result.compiled
      : `the definition no longer compiles: ${result.errors.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`;
    compiledCache.set(run.automationId, { version: run.automationVersion, compiled: value });
    return value;
  };

  // The last step's outcome, the run's end (its waits gone) and the promotion of the next
  // queued run of its scope commit together, under the scope's lock like every admission,
  // with the run's unlock behind them: one round trip. A run that was no longer running
  // (cancelled) was ended, and its successor promoted, by whoever cancelled it; promoting
  // again finds nothing to promote.
  const end = async (session: RunSession, runId: string, result: RunEnd) => {
    const finished = await session.end(result);
    await session.unlock();
    if (finished) emit({ runId, type: "run", status: result.status });
  };

  // Holding off wakes while scheduling: one that came meanwhile keeps the job due now.
  const suspend = async (session: RunSession, runId: string) => {
    await session.flush();
    await withTransaction(pool, async (tx) => {
      await holdWakes(tx, runId);
      await scheduleRun(tx, runId);
    });
  };

  // OVERLAPPED START. A step that declares `overlapsStart` (webhook, notify) executes while its
  // start is in flight — the claim's answer to the webhook leaving is then no round trip, not
  // one — when that start is a marker alone: nothing the run held back rides with it, and
  // nothing it sent earlier is unanswered (`uncommitted`), so no earlier step's outcome is
  // still to be stored when this step executes. Otherwise the start is answered first, as before.
  // What the start gives, kept:
  // - The running step with its input (the UI's trace): written by the same start, one round
  //   trip later than the request.
  // - Its first attempt counted: by the same start; later attempts' counts queue behind it on
  //   the session's connection (one round trip out at a time, in order).
  // - A run no longer running is not executed: the claim, answered just before, found it
  //   running under its lock; a cancel committed between the claim and the start is taken as
  //   one committed just after the start — the request goes out, its outcome is recorded
  //   (recordRan, as finish records a step cancelled meanwhile), and the run stops there.
  // Crash windows (the core dies):
  // - after the request left, before the start committed: no record of this attempt (or the
  //   previous execution's); the resume executes the step again with the same
  //   Idempotency-Key — a crash between a step and its record, as before. The step's attempt
  //   count misses that attempt, as it does when the database loses the start (a marker commits
  //   without the WAL flush). Crash loops stay bounded by the job's attempts: graphile-worker
  //   counts each fetch of the run's job before the executor claims the run (max_attempts).
  // - after the start committed, before the outcome: the step stays `running`, as before.
  // - a start that fails (the connection broke) after the request left: the execution throws
  //   once the step returned, its outcome unrecorded; the job is retried and the step sent
  //   again with the same key.

  /** Log, webhook, notify, delay and stop: prepare, record as running, execute, record the outcome. */
  const leafStep = async (action: ActionOf<LeafKind>, record: StepRecord | undefined, context: FlowContext): Promise<Flow> => {
    const ended = endedStep(action, record);
    if (ended) return ended;
    const { runId } = context;
    const { path } = action;
    if (record?.status === "waiting") {
      // A delay woken before its due time (another step's was earlier) keeps waiting.
      if (!record.due) return SUSPENDED;
      await context.flush();
      if (!(await settleStep(pool, runId, path, { status: "succeeded" }))) return HALTED;
      context.emit(path, "succeeded");
      return NEXT;
    }
    let countedAtStart = false;
    // Attempts this execution made (recorded by recordRan if the start found the run ended).
    let attempts = 0;
    const stepContext: StepContext = {
      runId,
      path,
      automation: context.automation,
      evaluation: context.evaluation,
      logger: options.logger,
      now,
      countAttempt: () => {
        attempts++;
        // The first attempt was counted with the step's start (countsAttemptFirst).
        if (countedAtStart) {
          countedAtStart = false;
          return Promise.resolve();
        }
        return context.countAttempt(path);
      },
      // An interrupt ends the pause early (withRetries then stops retrying).
      backoff: (attempt) => sleep(retryDelayMs(attempt), undefined, { signal: context.interrupt }).catch(() => undefined),
      signal: context.interrupt,
    };
    const prepared = await (modules[action.kind] as ActionModule<LeafKind>)(action, stepContext);
    const countFirst = prepared.countsAttemptFirst === true;
    // Synchronously before the start takes what is held back: see OVERLAPPED START.
    const overlaps = prepared.overlapsStart === true && !context.uncommitted();
    const starting = context.start(path, action.kind, prepared.input, undefined, countFirst);
    if (overlaps)
      starting.catch(() => undefined); // awaited once the step returned
    else if (!(await starting)) return HALTED;
    countedAtStart = countFirst;
    const outcome = await prepared.execute();
    if (overlaps && !(await starting)) {
      // Cancelled just before the start: what went out is recorded, and nothing more runs.
      // (An overlapping step ends succeeded or failed.)
      if (outcome.status === "succeeded" || outcome.status === "failed")
        await context.recordRan(path, action.kind, prepared.input, outcome, { made: attempts, countedWithStart: countFirst ? 1 : 0 });
      return HALTED;
    }
    // Cut short by the core stopping: left `running`, so the run's next execution (anywhere)
    // executes it again; a webhook carries the same Idempotency-Key then. A success stands.
    if (context.interrupt.aborted && outcome.status !== "succeeded") return HALTED;
    switch (outcome.status) {
      case "succeeded":
        await context.finish(path, { status: "succeeded", output: outcome.output });
        return NEXT;
      case "failed":
        await context.finish(path, { status: "failed", output: outcome.output, error: outcome.error });
        log.warn({ runId, step: path, error: outcome.error, continueOnError: action.continueOnError }, "automation step failed");
        return stepFailed(path, outcome.error);
      case "waiting":
        await context.flush();
        if (!(await waitStep(pool, runId, path, outcome.delayMs))) return HALTED;
        context.emit(path, "waiting");
        return SUSPENDED;
      case "stopped":
        await context.finish(path, { status: "succeeded", output: { reason: outcome.reason } });
        return { type: "stopped", reason: outcome.reason };
    }
  };

  /** Dispatch table: how each kind of step runs or resumes. */
  const STEPS: { [K in ActionKind]: FlowModule<K> } = {
    log: leafStep,
    webhook: leafStep,
    notify: leafStep,
    delay: leafStep,
    stop: leafStep,
    wait_until: waitUntilAction,
    choose: chooseAction,
    parallel: parallelAction,
  };

  /** The run's flow context, less the signal of the branch a step runs in. */
  const flowContext = (session: RunSession, run: ClaimedRun, steps: Map<string, StepRecord>, interrupt: AbortSignal): Omit<FlowContext, "signal"> => {
    const { id: runId } = run;
    const context: Omit<FlowContext, "signal"> = {
      runId,
      automation: { id: run.automationId, name: run.automationName },
      pool,
      entities: options.entities,
      interrupt,
      evaluation: {
        trigger: { id: run.trigger.triggerId, event: run.trigger.event, payload: run.trigger.payload },
        vars: {},
        entity: entityReader(options.entities),
        now: now(),
      },
      now,
      // Each step path is visited once per execution, so the records loaded at its start suffice.
      async runSequence(actions, signal) {
        for (const action of actions) {
          if (signal.aborted) return HALTED;
          // wait_until writes through the pool: the outcome held back goes first.
          if (action.kind === "wait_until") await session.flush();
          const flow = await (STEPS[action.kind] as FlowModule<ActionKind>)(action, steps.get(action.path), { ...context, signal });
          if (flow.type === "next" || (flow.type === "failed" && action.continueOnError)) continue;
          return flow;
        }
        return NEXT;
      },
      async start(path, kind, input, output, countAttempt) {
        if (!(await session.start(path, kind, input, output ?? null, countAttempt))) return false;
        emit({ runId, type: "step", path, status: "running" });
        return true;
      },
      // Sent with the next write, in its transaction (see run-session.ts).
      async finish(path, result) {
        session.finish(path, result, () => emit({ runId, type: "step", path, status: result.status }));
      },
      flush: () => session.flush(),
      uncommitted: () => session.uncommitted(),
      async recordRan(path, kind, input, result, attempts) {
        await session.write([recordRanStepStatement(runId, path, kind, input, result, attempts)]);
        emit({ runId, type: "step", path, status: result.status });
      },
      // A marker: an attempt a database crash forgets is made again, and counted again.
      countAttempt: (path) => session.countAttempt(path),
      emit: (path, status) => emit({ runId, type: "step", path, status }),
    };
    return context;
  };

  const executeClaimed = async ({ session, run, steps }: OpenedRun, interrupt: AbortSignal, known?: CompiledAutomation | string): Promise<void> => {
    const runId = run.id;
    const automation = compiled(run, known);
    if (typeof automation === "string") return end(session, runId, { status: "failed", error: automation });
    const context = flowContext(session, run, steps, interrupt);
    const flow = await context.runSequence(automation.actions, interrupt);
    switch (flow.type) {
      case "next":
        return end(session, runId, { status: "succeeded" });
      case "stopped":
        return end(session, runId, { status: "succeeded", stopReason: flow.reason });
      case "failed":
        return end(session, runId, { status: "failed", error: flow.error });
      case "suspended":
        return suspend(session, runId);
      case "halted":
        await session.flush();
        if (!interrupt.aborted) return log.info({ runId }, "the run is no longer running; stopped at a step boundary");
        await requeueRun(pool, runId);
        log.info({ runId }, "interrupted by this core stopping; the run resumes on another core from its last recorded step");
    }
  };

  return {
    // A run that cannot be claimed (ended, queued, cancelled or deleted): a late or repeated job does nothing.
    execute: (runId, interrupt = new AbortController().signal, jobId) => sessions.withClaimedRun(runId, (opened) => executeClaimed(opened, interrupt), jobId),
    executeHanded: (handed, interrupt = new AbortController().signal) => {
      let known: CompiledAutomation | string | undefined;
      const needsDefinition = (automationId: string, version: number) => {
        const cached = compiledCache.get(automationId);
        known = cached?.version === version ? cached.compiled : undefined;
        return known === undefined;
      };
      return sessions.withHandedRun(handed, needsDefinition, (opened) => executeClaimed(opened, interrupt, known));
    },
  };
}
