// How a step or a sequence of steps ends (a flow), and what the flow steps — choose, parallel,
// wait_until — get from the executor: the run, its stored records, and the sequence runner.
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import type { EntityRegistry } from "../../../entities/index.ts";
import type { CompiledAction } from "../../definitions/compile-automation.ts";
import type { EvaluationContext } from "../../expressions/index.ts";
import type { RanAttempts, StepRecord, StepResult, StepStatus } from "../../runs/run-records.ts";
import type { ActionKind, ActionOf } from "../actions/step.ts";

export type Flow =
  /** The step (or every step of the sequence) completed: go on. */
  | { type: "next" }
  /** A step waits (delay, wait_until): the run's job is scheduled for the earliest due time. */
  | { type: "suspended" }
  /** A `stop` step ran: the run ends as succeeded. */
  | { type: "stopped"; reason: string | null }
  /** A step failed; `error` is the run's error, naming the step. */
  | { type: "failed"; error: string }
  /** The run is no longer running (cancelled), or a sibling branch ended the parallel step: stop here, end nothing. */
  | { type: "halted" };

export const NEXT: Flow = { type: "next" };
export const SUSPENDED: Flow = { type: "suspended" };
export const HALTED: Flow = { type: "halted" };

export interface FlowContext {
  runId: string;
  automation: { id: string; name: string };
  pool: pg.Pool;
  /** Read by wait_until, through a reader that remembers what it read. */
  entities: Pick<EntityRegistry, "entity">;
  /** The run's evaluation context (trigger, vars, entity reader, clock at the start of this execution). */
  evaluation: EvaluationContext;
  now(): number;
  /** Aborted when a sibling branch failed or stopped, or the core stops: stop at the next step boundary. */
  signal: AbortSignal;
  /** Aborted when the core stops: a step in flight is abandoned unrecorded (see StepContext.signal). */
  interrupt: AbortSignal;
  runSequence(actions: readonly CompiledAction[], signal: AbortSignal): Promise<Flow>;
  /**
   * Records the step as running (with an output known up front); false if the run is no longer
   * running. `countAttempt`: its first attempt is counted in the same write.
   */
  start(path: string, kind: ActionKind, input: JsonValue, output?: JsonValue, countAttempt?: boolean): Promise<boolean>;
  /**
   * Records the outcome of a step that ran: held back and sent, in one transaction, with the
   * run's next record (the next step's start, or the run's end), before that step executes.
   */
  finish(path: string, result: StepResult): Promise<void>;
  /**
   * True while an outcome held back (finish) has not committed: the run's next start then
   * carries it, and must be answered before that step executes.
   */
  uncommitted(): boolean;
  /** Records a step that ran though its start found the run no longer running (see recordRanStepStatement). */
  recordRan(path: string, kind: ActionKind, input: JsonValue, result: StepResult, attempts: RanAttempts): Promise<void>;
  /** Records an attempt of the step before it is made (a crash mid-attempt still shows it). */
  countAttempt(path: string): Promise<void>;
  /** Sends the outcomes held back now: before a write through `pool`, which would not wait for them. */
  flush(): Promise<void>;
  /** Reports a stored outcome (the executor's onEvent). */
  emit(path: string, status: StepStatus): void;
}

/** A flow step: given its record (none before its first start), runs or resumes it. */
export type FlowModule<K extends ActionKind> = (action: ActionOf<K>, record: StepRecord | undefined, context: FlowContext) => Promise<Flow>;

/** The run's error for a step that failed with `error`. */
export const stepFailed = (path: string, error: string | null): Flow => ({ type: "failed", error: `step ${path} failed${error ? `: ${error}` : ""}` });

/** What a step that does one thing (or wait_until) means once its record ended; undefined while it has not. */
export function endedStep(action: CompiledAction, record: StepRecord | undefined): Flow | undefined {
  if (record?.status === "failed") return stepFailed(action.path, record.error);
  if (record?.status !== "succeeded") return undefined;
  // A stop that completed before a crash still ends the run.
  return action.kind === "stop" ? { type: "stopped", reason: (record.output as { reason?: string | null } | null)?.reason ?? null } : NEXT;
}

/**
 * Choose and parallel: an ended record is final (its output says whether a stop inside ended
 * the run); otherwise the body (re-)enters the nested steps, which skip what they completed.
 * The step stays running while a nested step waits.
 */
export async function compositeStep(
  path: string,
  record: StepRecord | undefined,
  context: FlowContext,
  output: { [key: string]: JsonValue },
  body: () => Promise<Flow>,
): Promise<Flow> {
  if (record?.status === "failed") return { type: "failed", error: record.error ?? `step ${path} failed` };
  if (record?.status === "succeeded") {
    const stopped = (record.output as { stopped?: { reason: string | null } } | null)?.stopped;
    return stopped ? { type: "stopped", reason: stopped.reason } : NEXT;
  }
  const flow = await body();
  switch (flow.type) {
    case "next":
      await context.finish(path, { status: "succeeded", output });
      break;
    case "stopped":
      await context.finish(path, { status: "succeeded", output: { ...output, stopped: { reason: flow.reason } } });
      break;
    case "failed":
      // The error names the nested step that failed, and so does the run's.
      await context.finish(path, { status: "failed", output, error: flow.error });
      break;
    default:
      break; // suspended or halted: the step stays running, to be re-entered
  }
  return flow;
}
