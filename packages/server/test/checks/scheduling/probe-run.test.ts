// One probe run within its budget: the probe's outcome when it answers in time, `down` (timeout)
// when it overstays — even when it ignores its signal — `error` when it throws or when a late
// start left it too little of its timeout, and no outcome at all when the caller cancels it.
import type { ProbeSpec } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { type ProbeOutcome, runProbeBounded } from "../../../src/checks/scheduling/probe-run.ts";

const spec = { type: "tcp", host: "127.0.0.1", port: 9, tls: false, ipFamily: "any", timeoutMs: 1_000, assertions: [] } as unknown as ProbeSpec;
let clock = 1_000_000;
const now = () => clock;

describe("a bounded probe run", () => {
  it("reports the probe's outcome, its start and its duration", async () => {
    const outcome: ProbeOutcome = { status: "degraded", detail: { reason: "slow" } };
    const run = await runProbeBounded(
      () => {
        clock += 40;
        return Promise.resolve(outcome);
      },
      spec,
      { budgetMs: 1_000, now },
    );
    expect(run).toEqual({ aborted: false, startedAt: 1_000_000, durationMs: 40, outcome });
  });

  it("gives up on a probe that ignores its signal once the budget is spent, and reports a timeout", async () => {
    let signalled: AbortSignal | undefined;
    const run = await runProbeBounded(
      (_spec, { signal }) => {
        signalled = signal;
        return new Promise<ProbeOutcome>(() => undefined);
      },
      // Long enough that a loaded machine's event-loop stall stays under the share of the
      // timeout after which the run is reported overloaded rather than timed out (a quarter:
      // 375 ms here; 100 ms of a 400 ms timeout was seen stalled with the host at load 12).
      { ...spec, timeoutMs: 1_500 },
      { budgetMs: 1_500, now },
    );
    expect(run).toMatchObject({ aborted: false, outcome: { status: "down", detail: { error: { code: "timeout", message: "no answer within 1500 ms" } } } });
    expect(signalled?.aborted).toBe(true);
  });

  it("does not blame the target when the run started so late that its budget was a fraction of the timeout", async () => {
    const run = await runProbeBounded(() => new Promise<ProbeOutcome>(() => undefined), spec, { budgetMs: 20, now });
    expect(run).toMatchObject({ aborted: false, outcome: { status: "error", detail: { error: { code: "overloaded" } } } });
  });

  it("reports a probe that throws as the probe's own failure", async () => {
    const run = await runProbeBounded(() => Promise.reject(new Error("bad CA bundle")), spec, { budgetMs: 1_000, now });
    expect(run).toMatchObject({ aborted: false, outcome: { status: "error", detail: { reason: "bad CA bundle", error: { code: "probe_error" } } } });
  });

  it("ends without an outcome when the caller cancels, before or during the run", async () => {
    const before = new AbortController();
    before.abort();
    let called = false;
    const probe = (_spec: ProbeSpec, { signal }: { signal: AbortSignal }) => {
      called = true;
      return new Promise<ProbeOutcome>((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
    };
    expect(await runProbeBounded(probe, spec, { budgetMs: 1_000, signal: before.signal, now })).toEqual({ aborted: true });
    expect(called).toBe(false);

    const during = new AbortController();
    const running = runProbeBounded(probe, spec, { budgetMs: 1_000, signal: during.signal, now });
    during.abort();
    expect(await running).toEqual({ aborted: true });
    expect(called).toBe(true);
  });
});
