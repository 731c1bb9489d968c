// One probe run on the core, held to a hard time budget: a probe that overstays its budget (or
// ignores its signal) is not waited for, which is what lets the schedule promise that two runs
// of one check never overlap. A throwing probe is the probe's failure (`error`), not the target's.
import { timedOutResult, watchLoopStall } from "@vantage/probes";
import type { CheckResultDetail, CheckRunStatus, ProbeSpec } from "@vantage/protocol";

/** What a probe reports. */
export interface ProbeOutcome {
  status: CheckRunStatus;
  detail: CheckResultDetail;
}

/**
 * The probe library's entry point (`runProbe` of `@vantage/probes`): runs the spec once,
 * honouring `signal` and `spec.timeoutMs`.
 */
export type RunProbe = (spec: ProbeSpec, options: { signal: AbortSignal }) => Promise<ProbeOutcome>;

export interface BoundedRunOptions {
  /** The run ends by then: past it, the probe is aborted and the run reported timed out. */
  budgetMs: number;
  /** The caller's cancellation (a core stopping): the run ends `aborted`, with no outcome. */
  signal?: AbortSignal;
  /** Epoch milliseconds, for startedAt and the duration. */
  now: () => number;
}

export type BoundedRun = { aborted: false; startedAt: number; durationMs: number; outcome: ProbeOutcome } | { aborted: true };

/** A run that failed before or instead of the probe's own report; the message is cut to what a detail holds. */
export function failedOutcome(status: CheckRunStatus, code: string, message: string): ProbeOutcome {
  const text = message.slice(0, 1_000);
  return { status, detail: { reason: text, error: { code, message: text } } };
}

/** Runs `spec` through `runProbe` within `budgetMs`. Never throws. */
export async function runProbeBounded(runProbe: RunProbe, spec: ProbeSpec, options: BoundedRunOptions): Promise<BoundedRun> {
  const { now } = options;
  const controller = new AbortController();
  const budgetMs = Math.max(0, Math.floor(options.budgetMs));
  let timedOut = false;
  let cancel: () => void = () => undefined;
  // Settles when the budget is spent or the caller cancels, whichever the probe does not beat.
  const stopped = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`timed out after ${budgetMs} ms`, "TimeoutError"));
      resolve();
    }, budgetMs);
    const onCancel = () => {
      controller.abort(options.signal?.reason);
      resolve();
    };
    options.signal?.addEventListener("abort", onCancel, { once: true });
    cancel = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onCancel);
    };
  });
  if (options.signal?.aborted) {
    cancel();
    return { aborted: true };
  }
  const startedAt = now();
  const stall = watchLoopStall();
  let outcome: ProbeOutcome | undefined;
  try {
    outcome = await Promise.race([Promise.resolve().then(() => runProbe(spec, { signal: controller.signal })), stopped.then(() => undefined)]);
  } catch (error) {
    outcome = controller.signal.aborted ? undefined : failedOutcome("error", "probe_error", error instanceof Error ? error.message : String(error));
  } finally {
    cancel();
    stall.release();
  }
  if (options.signal?.aborted) return { aborted: true };
  // A budget shorter than the check's timeout is time this core took (a late start), as a stall is.
  if (timedOut || outcome === undefined) outcome = timedOutResult(spec.timeoutMs, Math.max(0, spec.timeoutMs - budgetMs) + stall.stalledMs());
  return { aborted: false, startedAt, durationMs: Math.max(0, now() - startedAt), outcome };
}
