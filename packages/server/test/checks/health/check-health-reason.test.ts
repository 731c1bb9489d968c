// A whole evaluation: results in, the check's status, since, reason (which locations, what each
// saw, in words read from the results' details), flapping and the instant it goes stale.
import { DEFAULT_CHECK_HEALTH, type CheckHealthOptions } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { describeResult } from "../../../src/checks/health/describe-result.ts";
import {
  type CheckHealthRecord,
  evaluateCheckHealth,
  type HealthEvaluationInput,
  nextStaleAt,
  stalenessMsOf,
} from "../../../src/checks/health/evaluate-check-health.ts";
import type { LocationResult } from "../../../src/checks/health/location-health.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const NAMES: Record<string, string> = { a: "eu-1", b: "us-1", c: "ap-1", core: "core" };

function evaluator(options: Partial<CheckHealthOptions> = {}) {
  let record: CheckHealthRecord | null = null;
  let now = T0;
  const offline = new Set<string>();
  const step = (results: Array<Omit<LocationResult, "startedAt">>, advanceMs = 60_000) => {
    now += advanceMs;
    const input: HealthEvaluationInput = {
      previous: record,
      results: results.map((result) => ({ ...result, startedAt: now - 1_000 })),
      options: { ...DEFAULT_CHECK_HEALTH, ...options },
      stalenessMs: stalenessMsOf({ intervalSeconds: 60, timeoutMs: 10_000 }, { graceSeconds: 30 }),
      presence: (location) => (offline.has(location) ? "offline" : "online"),
      nameOf: (location) => NAMES[location] ?? location,
      now,
    };
    record = evaluateCheckHealth(input);
    return record;
  };
  return { step, offline, now: () => now };
}

const down = (location: string, problem: string) => ({ location, status: "down" as const, problem });
const up = (location: string) => ({ location, status: "up" as const, problem: null });

describe("evaluating a check's health", () => {
  it("names the failing locations and what each saw: the reason of the issue's example", () => {
    const check = evaluator({ failuresToUnhealthy: 1, policy: { quorum: 2 } });
    const record = check.step([down("a", "status 503, expected 2xx"), down("b", "timeout 10 s"), up("c")]);
    expect(record.status).toBe("unhealthy");
    expect(record.reason).toBe("2 of 3 locations failing: eu-1 (status 503, expected 2xx), us-1 (timeout 10 s)");
  });

  it("gives a new check whose first results fail no verdict (unknown) until the streak trips, and says what failed", () => {
    const check = evaluator({ failuresToUnhealthy: 3 });
    expect(check.step([down("core", "connection refused")])).toMatchObject({ status: "unknown", reason: "no verdict yet: core (connection refused)" });
    expect(check.step([down("core", "connection refused")])).toMatchObject({ status: "unknown", reason: "no verdict yet: core (connection refused)" });
    expect(check.step([down("core", "connection refused")])).toMatchObject({
      status: "unhealthy",
      reason: "1 of 1 locations failing: core (connection refused)",
    });
  });

  it("counts only the locations with a verdict, and lists a new one failing so far as such", () => {
    const check = evaluator({ failuresToUnhealthy: 3 });
    check.step([up("a")]);
    expect(check.step([up("a"), down("b", "timeout 10 s")])).toMatchObject({
      status: "healthy",
      reason: "1 of 1 locations healthy; unobservable: us-1 (no verdict yet: timeout 10 s)",
    });
  });

  it("calls a failing minority a partial outage", () => {
    const check = evaluator({ failuresToUnhealthy: 1, policy: { quorum: 2 } });
    expect(check.step([down("a", "status 503, expected 2xx"), up("b"), up("c")])).toMatchObject({
      status: "degraded",
      reason: "partial outage: 1 of 3 locations failing: eu-1 (status 503, expected 2xx)",
    });
  });

  it("goes unknown, never unhealthy, when every satellite is lost, and says why", () => {
    const check = evaluator({ failuresToUnhealthy: 1 });
    check.step([down("a", "timeout 10 s"), up("b")]);
    check.offline.add("a").add("b");
    const record = check.step([]);
    expect(record.status).toBe("unknown");
    expect(record.reason).toBe("no location can observe the check: eu-1 (satellite offline), us-1 (satellite offline)");
  });

  it("is degraded with quorum_unavailable when too few locations observe", () => {
    const check = evaluator({ policy: { quorum: 2 } });
    check.step([up("a"), up("b")]);
    check.offline.add("b");
    expect(check.step([up("a")])).toMatchObject({
      status: "degraded",
      reason: "quorum_unavailable: 1 of 2 locations observable, 2 needed; unobservable: us-1 (satellite offline)",
    });
  });

  it("turns a silent location unobservable after interval + timeout + grace", () => {
    const check = evaluator();
    check.step([up("a"), up("b")]);
    // 100 s of silence is the limit (60 s + 10 s + 30 s); a's result started 1 s before its step.
    expect(check.step([up("b")], 99_000).locations.a?.unobservable).toBeNull();
    const record = check.step([up("b")], 2_000);
    expect(record.locations.a?.unobservable).toBe("stale");
    expect(record.reason).toBe(`1 of 1 locations healthy; unobservable: eu-1 (no result since ${record.locations.a?.lastResultAt})`);
  });

  it("keeps `since` while the status holds and moves it when it changes", () => {
    const check = evaluator({ failuresToUnhealthy: 1 });
    const first = check.step([up("a")]);
    expect(check.step([up("a")]).since).toBe(first.since);
    const failing = check.step([down("a", "x")]);
    expect(failing.since).toBe(new Date(check.now()).toISOString());
  });

  it("records when the first observable location goes stale, for the staleness monitor", () => {
    const check = evaluator();
    const record = check.step([up("a")]);
    expect(record.staleAt).toBe(new Date(check.now() - 1_000 + 100_000).toISOString());
  });

  it("keeps a stored stale_at while it is still ahead and not later than the true one (never later)", () => {
    const at = (s: number) => new Date(T0 + s * 1000).toISOString();
    expect(nextStaleAt(at(100), T0 + 150_000, T0 + 50_000)).toBe(at(100));
    expect(nextStaleAt(at(200), T0 + 150_000, T0 + 50_000)).toBe(at(150));
    expect(nextStaleAt(at(40), T0 + 150_000, T0 + 50_000)).toBe(at(150));
    expect(nextStaleAt(null, T0 + 150_000, T0 + 50_000)).toBe(at(150));
    expect(nextStaleAt(at(100), null, T0 + 50_000)).toBeNull();
  });

  it("starts flapping when a target alternates every run", () => {
    const check = evaluator({ failuresToUnhealthy: 1, successesToRecover: 1 });
    let record = check.step([up("a")]);
    for (let i = 0; i < 6; i++) record = check.step([i % 2 === 0 ? down("a", "x") : up("a")]);
    expect(record.flapping).toBe(true);
  });
});

describe("describing a result's problem", () => {
  it("says a timeout with the check's own timeout", () => {
    expect(describeResult("down", { error: { code: "timeout", message: "no answer within 10000 ms" }, reason: "no answer within 10000 ms" }, 10_000)).toBe(
      "timeout 10 s",
    );
  });

  it("turns the probe's status reason around: status first, then what was expected", () => {
    expect(describeResult("down", { reason: "expected status 2xx, got 503", http: { statusCode: 503 } }, 10_000)).toBe("status 503, expected 2xx");
  });

  it("names the first failed assertion of the result's own severity", () => {
    const assertions = [
      { path: "assertions[0]", subject: "responseTimeMs", op: "lt", expected: 200, actual: 812, pass: false, onFail: "degrade" as const },
      { path: "assertions[1]", subject: "json:$.status", op: "eq", expected: "ok", actual: "down", pass: false, onFail: "fail" as const },
    ];
    expect(describeResult("down", { assertions }, 10_000)).toBe('json:$.status "down", expected eq "ok"');
    expect(describeResult("degraded", { assertions }, 10_000)).toBe("responseTimeMs 812, expected lt 200");
  });

  it("falls back to the error code, then the reason, then the status; an up has none", () => {
    expect(describeResult("down", { error: { code: "connection_refused", message: "connect ECONNREFUSED" } }, 10_000)).toBe("connection refused");
    expect(describeResult("degraded", { reason: "slower than 500 ms (took 812 ms)" }, 10_000)).toBe("slower than 500 ms (took 812 ms)");
    expect(describeResult("down", {}, 10_000)).toBe("down");
    expect(describeResult("up", { reason: "whatever" }, 10_000)).toBeNull();
  });

  it("cuts a long problem to 120 characters", () => {
    expect(describeResult("down", { reason: "x".repeat(500) }, 10_000)).toHaveLength(120);
  });
});
