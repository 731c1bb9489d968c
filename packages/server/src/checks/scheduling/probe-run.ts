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
  /**
   * Instead of `signal`: the run's own controller, aborted by the caller to cancel the run and by
   * the budget when it is spent. The scheduler's runs pass theirs: one controller and one
   * listener per run instead of two controllers chained (thousands of runs a second).
   */
  controller?: AbortController;
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
export function runProbeBounded(runProbe: RunProbe, spec: ProbeSpec, options: BoundedRunOptions): Promise<BoundedRun> {
  const { now, signal } = options;
  const controller = options.controller ?? new AbortController();
  if (signal?.aborted || (options.controller && controller.signal.aborted)) return Promise.resolve({ aborted: true });
  const budgetMs = Math.max(0, Math.floor(options.budgetMs));
  const startedAt = now();
  const stall = watchLoopStall();
  // One promise settled by whichever comes first: the probe's report, the budget spent, or the
  // caller's cancellation (both abort the controller, whose one listener ends the wait even for
  // a probe that ignores its signal). Written by hand rather than with Promise.race: it runs for
  // every check run, and each promise and closure less is garbage the collector does not chase.
  return new Promise<BoundedRun>((resolve) => {
    // Methods and a listener object, not named arrows: one run each (thousands a second), and
    // the runtime (tsx, with esbuild's keepNames) defines a `name` on every named arrow it makes.
    const run = {
      timedOut: false,
      done: false,
      timer: undefined as NodeJS.Timeout | undefined,
      finish(outcome: ProbeOutcome | undefined) {
        if (run.done) return;
        run.done = true;
        clearTimeout(run.timer);
        controller.signal.removeEventListener("abort", run);
        signal?.removeEventListener("abort", forward);
        const stalledMs = stall.stalledMs();
        stall.release();
        // Aborted and not by the budget: the caller cancelled.
        if (!run.timedOut && (signal?.aborted || controller.signal.aborted)) return resolve({ aborted: true });
        // A budget shorter than the check's timeout is time this core took (a late start), as a stall is.
        if (outcome === undefined) outcome = timedOutResult(spec.timeoutMs, Math.max(0, spec.timeoutMs - budgetMs) + stalledMs);
        resolve({ aborted: false, startedAt, durationMs: Math.max(0, now() - startedAt), outcome });
      },
      /** The controller aborted: the budget was spent or the caller cancelled. */
      handleEvent() {
        run.finish(undefined);
      },
    };
    const forward = {
      handleEvent() {
        controller.abort(signal!.reason);
      },
    };
    run.timer = setTimeout(() => {
      run.timedOut = true;
      controller.abort(new DOMException(`timed out after ${budgetMs} ms`, "TimeoutError"));
    }, budgetMs);
    controller.signal.addEventListener("abort", run, { once: true });
    signal?.addEventListener("abort", forward, { once: true });
    let probing: Promise<ProbeOutcome>;
    try {
      probing = runProbe(spec, { signal: controller.signal });
    } catch (error) {
      probing = Promise.reject(error);
    }
    probing.then(
      (outcome) => run.finish(outcome),
      (error: unknown) =>
        run.finish(controller.signal.aborted ? undefined : failedOutcome("error", "probe_error", error instanceof Error ? error.message : String(error))),
    );
  });
}
