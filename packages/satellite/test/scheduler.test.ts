// The agent's scheduler: a random first offset, no overlapping runs (runs on demand included), timeouts, changed and removed checks, and nothing left behind on stop.
import type { Assignment, ResultFrame } from "@vantage/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../src/clock.ts";
import { type Probe, createProbeRegistry } from "../src/probes/registry.ts";
import { type Scheduler, createScheduler } from "../src/scheduler.ts";
import { captureLogs } from "./support/capture-logs.ts";

function assignment(checkId: string, overrides: Partial<Assignment> = {}): Assignment {
  return { checkId, name: checkId, type: "fake", intervalSeconds: 60, timeoutMs: 10_000, config: {}, ...overrides };
}

/** A probe whose runs finish only when the test says so; records every call. */
function controllableProbe() {
  const runs: Array<{ checkId: string; signal: AbortSignal; finish: (status?: "up" | "down") => void }> = [];
  const probe: Probe = (a, signal) =>
    new Promise((resolve) => runs.push({ checkId: a.checkId, signal, finish: (status = "up") => resolve({ status, detail: { ran: a.checkId } }) }));
  return { probe, runs };
}

let scheduler: Scheduler;
let results: ResultFrame[];

function start(probe: Probe, random = () => 0.25) {
  const probes = createProbeRegistry();
  probes.register("fake", probe);
  results = [];
  scheduler = createScheduler({ probes, clock: systemClock, random, logger: captureLogs().logger, onResult: (r) => results.push(r) });
  return scheduler;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  scheduler.stop();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe("the scheduler", () => {
  it("runs a check first at a random offset within its interval, then every interval", async () => {
    const { probe, runs } = controllableProbe();
    start(probe, () => 0.25).replace([assignment("a")]);

    await vi.advanceTimersByTimeAsync(14_999);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(2);
  });

  it("draws each check's first offset from the whole interval", async () => {
    const draws = [0, 0.5, 0.999];
    const firstRunAt: Record<string, number> = {};
    start(
      async (a) => {
        firstRunAt[a.checkId] ??= Date.now();
        return { status: "up", detail: {} };
      },
      () => draws.shift()!,
    ).replace([assignment("a"), assignment("b"), assignment("c")]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(firstRunAt).toEqual({ a: 0, b: 30_000, c: 59_940 });
  });

  it("reports a finished run as a result with its id, start and duration", async () => {
    const { probe, runs } = controllableProbe();
    start(probe).replace([assignment("a")]);
    await vi.advanceTimersByTimeAsync(15_000);
    await vi.advanceTimersByTimeAsync(1_234);
    runs[0]!.finish("down");
    await vi.advanceTimersByTimeAsync(0);
    expect(results).toEqual([
      {
        type: "result",
        resultId: expect.any(String),
        checkId: "a",
        startedAt: new Date(15_000).toISOString(),
        durationMs: 1_234,
        status: "down",
        detail: { ran: "a" },
      },
    ]);
  });

  it("never overlaps runs of one check: a tick during a run is skipped and counted", async () => {
    const { probe, runs } = controllableProbe();
    start(probe).replace([assignment("a", { intervalSeconds: 10, timeoutMs: 60_000 })]);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(runs).toHaveLength(1);
    expect(scheduler.inFlight()).toBe(1);

    await vi.advanceTimersByTimeAsync(30_000);
    expect(runs).toHaveLength(1);
    expect(scheduler.skippedRuns("a")).toBe(3);

    runs[0]!.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(scheduler.inFlight()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(2);
  });

  it("aborts a run at its timeout and reports it down", async () => {
    const signals: AbortSignal[] = [];
    start((_a, signal) => {
      signals.push(signal);
      return new Promise(() => {}); // a probe that ignores its signal must not hang the check
    }).replace([assignment("a", { timeoutMs: 5_000 })]);
    await vi.advanceTimersByTimeAsync(15_000 + 4_999);
    expect(signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(results).toMatchObject([
      { checkId: "a", status: "down", durationMs: 5_000, detail: { error: { code: "timeout", message: "no answer within 5000 ms" } } },
    ]);
    expect(scheduler.inFlight()).toBe(0);
  });

  it("reports a check of an unknown type, and a probe that throws, as error: the probe could not run", async () => {
    start(async () => {
      throw new Error("connection refused");
    }).replace([assignment("a", { type: "carrier-pigeon" }), assignment("b")]);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(results.map((r) => [r.checkId, r.status, r.detail.error?.code, r.detail.reason])).toEqual([
      ["a", "error", "unsupported_type", "this satellite cannot run checks of this type"],
      ["b", "error", "probe_error", "connection refused"],
    ]);
  });

  it("drops removed checks: no more runs, the run in flight aborted and its result discarded", async () => {
    const { probe, runs } = controllableProbe();
    start(probe).replace([assignment("a"), assignment("b")]);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(runs.map((r) => r.checkId)).toEqual(["a", "b"]);

    expect(scheduler.replace([assignment("b")])).toEqual({ added: 0, removed: 1, changed: 0, unchanged: 1, total: 1 });
    expect(runs[0]!.signal.aborted).toBe(true);
    expect(runs[1]!.signal.aborted).toBe(false);
    runs[0]!.finish();
    runs[1]!.finish();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(results.map((r) => r.checkId)).toEqual(["b"]);
    expect(runs.map((r) => r.checkId)).toEqual(["a", "b", "b"]);
  });

  it("restarts a changed check with its new settings and keeps an unchanged one on its schedule", async () => {
    const { probe, runs } = controllableProbe();
    const draws = [0.25, 0.5, 0];
    start(probe, () => draws.shift() ?? 0).replace([assignment("a"), assignment("b", { config: { x: 1, y: 2 } })]);
    await vi.advanceTimersByTimeAsync(20_000); // a ran at 15 s; b is due at 30 s
    expect(runs.map((r) => r.checkId)).toEqual(["a"]);

    const changes = scheduler.replace([assignment("a", { intervalSeconds: 5 }), assignment("b", { config: { y: 2, x: 1 } })]);
    expect(changes).toEqual({ added: 0, removed: 0, changed: 1, unchanged: 1, total: 2 });
    expect(runs[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs.map((r) => r.checkId)).toEqual(["a", "a"]); // new offset 0 within 5 s
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs.filter((r) => r.checkId === "b")).toHaveLength(1); // b kept its 30 s slot
  });

  it("restarts a check saved again (a new revision) even when its settings read the same", async () => {
    const { probe } = controllableProbe();
    start(probe).replace([assignment("a", { revision: 1 }), assignment("b", { revision: 1 })]);
    expect(scheduler.replace([assignment("a", { revision: 2 }), assignment("b", { revision: 1 })])).toEqual({
      added: 0,
      removed: 0,
      changed: 1,
      unchanged: 1,
      total: 2,
    });
  });

  it("aborts everything and leaves no timer behind when stopped", async () => {
    const { probe, runs } = controllableProbe();
    start(probe).replace([assignment("a"), assignment("b", { intervalSeconds: 1 })]);
    await vi.advanceTimersByTimeAsync(15_000);
    scheduler.stop();
    expect(runs.every((r) => r.signal.aborted)).toBe(true);
    expect(scheduler.inFlight()).toBe(0);
  });
});

describe("runs on demand", () => {
  it("runs a check once now and resolves with its outcome, submitting no result frame", async () => {
    const { probe, runs } = controllableProbe();
    start(probe);
    const outcome = scheduler.runNow(assignment("trial"));
    await vi.advanceTimersByTimeAsync(0);
    expect(runs.map((run) => run.checkId)).toEqual(["trial"]);
    runs[0]!.finish("down");
    await expect(outcome).resolves.toMatchObject({ status: "down", detail: { ran: "trial" }, startedAt: new Date(0).toISOString() });
    expect(results).toEqual([]);
  });

  it("waits for a scheduled run of the same check in flight, and the ticks during it are skipped", async () => {
    const { probe, runs } = controllableProbe();
    start(probe, () => 0);
    scheduler.replace([assignment("c1", { intervalSeconds: 1 })]);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    const outcome = scheduler.runNow(assignment("c1", { intervalSeconds: 1 }));
    await vi.advanceTimersByTimeAsync(0);
    // Not started beside the scheduled run.
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(2);
    expect(scheduler.inFlight()).toBe(1);
    // The next slot falls during the run on demand: skipped, not overlapped.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toHaveLength(2);
    expect(scheduler.skippedRuns("c1")).toBe(1);
    runs[1]!.finish("up");
    await expect(outcome).resolves.toMatchObject({ status: "up" });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toHaveLength(3);
  });

  it("reports a run on demand that overstays its timeout as down, and resolves null once stopped", async () => {
    const { probe } = controllableProbe();
    start(probe);
    const timedOut = scheduler.runNow(assignment("slow", { timeoutMs: 500 }));
    await vi.advanceTimersByTimeAsync(500);
    await expect(timedOut).resolves.toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
    const stopped = scheduler.runNow(assignment("slow", { timeoutMs: 500 }));
    await vi.advanceTimersByTimeAsync(0);
    scheduler.stop();
    await expect(stopped).resolves.toBeNull();
  });
});
