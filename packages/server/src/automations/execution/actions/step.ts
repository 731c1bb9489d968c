// What every leaf action module (log, webhook, notify, delay, stop) implements: render its
// input (stored with secrets masked), then execute it to one outcome. Also the one retry loop
// webhook and notify share.
import { type BackoffPolicy, backoffDelayMs, type JsonValue } from "@vantage/protocol";
import type { Logger } from "../../../log.ts";
import type { CompiledAction } from "../../definitions/compile-automation.ts";
import type { EvaluationContext } from "../../expressions/index.ts";

export type StepOutcome =
  | { status: "succeeded"; output?: JsonValue }
  | { status: "failed"; error: string; output?: JsonValue }
  /** A durable delay: the executor stores the due time and reschedules the run's job. */
  | { status: "waiting"; delayMs: number }
  /** A `stop` step: the run ends as succeeded with this reason. */
  | { status: "stopped"; reason: string | null };

export interface StepContext {
  runId: string;
  path: string;
  automation: { id: string; name: string };
  evaluation: EvaluationContext;
  logger: Logger;
  /** The clock, in epoch milliseconds. */
  now(): number;
  /** Records an attempt in the step's row before it is made. */
  countAttempt(): Promise<void>;
  /** Waits between attempts: `retryDelayMs(attempt)` after the attempt-th failure; ends early once `signal` aborts. */
  backoff(attempt: number): Promise<void>;
  /**
   * Aborted when this core stops: work in flight (a request, a retry pause) ends at once, its
   * outcome is not recorded and the run resumes on another core, which executes the step again.
   */
  signal: AbortSignal;
}

export interface PreparedStep {
  /** The templated input as the step record keeps it: secrets are `<redacted>`. */
  input: JsonValue;
  /**
   * `execute` counts an attempt (countAttempt) before it does anything else: the executor then
   * counts the first one with the step's start, and that first call returns at once — one
   * round trip less per step, between a run's claim and its webhook.
   */
  countsAttemptFirst?: boolean;
  /**
   * `execute` may begin while the step's start is in flight, when that start is a marker alone
   * (run-executor.ts, leafStep): a step whose every attempt is safe to repeat (one
   * Idempotency-Key) and whose outcome is `succeeded` or `failed`. Saves the start's round trip
   * between a run's claim and its request.
   */
  overlapsStart?: boolean;
  execute(): Promise<StepOutcome>;
}

export type ActionKind = CompiledAction["kind"];
export type ActionOf<K extends ActionKind> = Extract<CompiledAction, { kind: K }>;
export type ActionModule<K extends ActionKind> = (action: ActionOf<K>, context: StepContext) => Promise<PreparedStep>;
/** Actions that do one thing; choose, parallel and wait_until are flow steps (see ../flow/flow.ts). */
export type LeafKind = "log" | "webhook" | "notify" | "delay" | "stop";
export type ActionModules = { [K in LeafKind]: ActionModule<K> };

/** One attempt's result: done, or failed and worth (or not worth) another try. */
export type AttemptResult = { ok: true; output: JsonValue } | { ok: false; retryable: boolean; error: string; output?: JsonValue };

/** Up to `1 + retries` attempts, each counted before it is made, backing off between them. */
export async function withRetries(retries: number, context: StepContext, attempt: () => Promise<AttemptResult>): Promise<StepOutcome> {
  for (let made = 1; ; made++) {
    await context.countAttempt();
    const result = await attempt();
    if (result.ok) return { status: "succeeded", output: result.output };
    if (!result.retryable || made > retries || context.signal.aborted)
      return { status: "failed", error: result.error, ...(result.output === undefined ? {} : { output: result.output }) };
    context.logger.warn({ runId: context.runId, step: context.path, attempt: made, error: result.error }, "step attempt failed; retrying");
    await context.backoff(made);
  }
}

/** Between a step's attempts: about 0.5 s, 1 s, 2 s … 30 s, never less than half of that. */
export const STEP_RETRY_BACKOFF = { baseMs: 500, maxMs: 30_000, jitter: "equal" } as const satisfies BackoffPolicy;

export const defaultRetryDelayMs = (attempt: number): number => backoffDelayMs(STEP_RETRY_BACKOFF, attempt);
