// The policy over locations and flap detection: unhealthy only when the policy's count of
// unhealthy observable locations is reached, a failing minority degraded, too few observers
// degraded (quorum_unavailable) and none unknown; flapping on at 30 %, off at 15 %.
import fc from "fast-check";
import type { HealthPolicy } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { changeShare, FLAP_WINDOW, nextFlapState } from "../../../src/checks/health/flapping.ts";
import { applyPolicy, unhealthyNeeded } from "../../../src/checks/health/health-policy.ts";
import type { LocationStatus } from "../../../src/checks/health/location-health.ts";

describe("the health policy", () => {
  it.each<[string, HealthPolicy, LocationStatus[], string, string]>([
    ["any: one unhealthy location is enough", "any", ["unhealthy", "healthy", "healthy"], "unhealthy", "failing"],
    ["all: one of three is a partial outage", "all", ["unhealthy", "healthy", "healthy"], "degraded", "partial_outage"],
    ["all: every observable one unhealthy", "all", ["unhealthy", "unhealthy", "unobservable"], "unhealthy", "failing"],
    ["quorum 2: one failing is degraded", { quorum: 2 }, ["unhealthy", "healthy", "healthy"], "degraded", "partial_outage"],
    ["quorum 2: two failing is unhealthy", { quorum: 2 }, ["unhealthy", "unhealthy", "healthy"], "unhealthy", "failing"],
    [
      "quorum 2: one observer is quorum_unavailable, even failing",
      { quorum: 2 },
      ["unhealthy", "unobservable", "unobservable"],
      "degraded",
      "quorum_unavailable",
    ],
    ["quorum 2: one healthy observer is quorum_unavailable too", { quorum: 2 }, ["healthy", "unobservable"], "degraded", "quorum_unavailable"],
    ["percent 50 of 4 known: 2 needed", { percent: 50 }, ["unhealthy", "unhealthy", "healthy", "healthy"], "unhealthy", "failing"],
    [
      "percent 50 of 4 known, 1 observable: quorum_unavailable",
      { percent: 50 },
      ["unhealthy", "unobservable", "unobservable", "unobservable"],
      "degraded",
      "quorum_unavailable",
    ],
    ["degraded locations make the check degraded", "any", ["degraded", "healthy"], "degraded", "degraded_locations"],
    ["all healthy", { quorum: 2 }, ["healthy", "healthy", "unobservable"], "healthy", "healthy"],
    ["nobody observes: unknown", "any", ["unobservable", "unobservable"], "unknown", "no_observers"],
    ["no locations yet: unknown", "any", [], "unknown", "no_observers"],
  ])("%s", (_name, policy, statuses, status, outcome) => {
    expect(applyPolicy(policy, statuses)).toMatchObject({ status, outcome });
  });

  it("rounds a percentage up, without float error (7 % of 100 needs 7)", () => {
    expect(unhealthyNeeded({ percent: 50 }, 3, 3)).toBe(2);
    expect(unhealthyNeeded({ percent: 7 }, 100, 100)).toBe(7);
    expect(unhealthyNeeded({ percent: 1 }, 1, 1)).toBe(1);
  });

  const statuses = fc.array(fc.constantFrom<LocationStatus>("healthy", "degraded", "unhealthy", "unobservable"), { maxLength: 12 });
  const policies = fc.oneof(
    fc.constant<HealthPolicy>("any"),
    fc.constant<HealthPolicy>("all"),
    fc.integer({ min: 1, max: 6 }).map((quorum): HealthPolicy => ({ quorum })),
    fc.integer({ min: 1, max: 100 }).map((percent): HealthPolicy => ({ percent })),
  );

  it("never calls a check unhealthy because a location cannot observe (property)", () => {
    fc.assert(
      fc.property(policies, statuses, fc.nat(), (policy, list, index) => {
        if (list.length === 0) return;
        const at = index % list.length;
        if (list[at] !== "unhealthy") return;
        // Turning an unhealthy location unobservable can only make the verdict milder.
        const milder = list.map((status, i) => (i === at ? "unobservable" : status));
        const rank = { healthy: 0, unknown: 0, degraded: 1, unhealthy: 2 } as const;
        expect(rank[applyPolicy(policy, milder).status]).toBeLessThanOrEqual(rank[applyPolicy(policy, list).status]);
      }),
    );
  });

  it("is unknown exactly when no location observes, and unhealthy only with an unhealthy location (property)", () => {
    fc.assert(
      fc.property(policies, statuses, (policy, list) => {
        const verdict = applyPolicy(policy, list);
        expect(verdict.status === "unknown").toBe(list.every((status) => status === "unobservable"));
        if (verdict.status === "unhealthy") expect(list).toContain("unhealthy");
        if (verdict.status === "healthy") expect(list.filter((status) => status !== "unobservable").every((status) => status === "healthy")).toBe(true);
      }),
    );
  });
});

describe("flapping", () => {
  const run = (changes: boolean[]) => changes.reduce((state, changed) => nextFlapState(state, changed), { history: "", flapping: false });

  it("starts when 30 % of the last 20 evaluations changed the status, not at 25 %", () => {
    expect(run([true, true, true, true, true]).flapping).toBe(false);
    expect(run([true, true, true, true, true, true]).flapping).toBe(true);
  });

  it("stops only at 15 %, not at 20 % (hysteresis)", () => {
    const flapping = run(Array.from({ length: 6 }, () => true));
    const quieter = (n: number) => run([...Array.from({ length: 6 }, () => true), ...Array.from({ length: n }, () => false)]);
    expect(flapping.flapping).toBe(true);
    // 6 changes stay in the window for 14 quiet evaluations; then they slide out one by one.
    expect(quieter(16).flapping).toBe(true); // 4 of 20
    expect(quieter(17).flapping).toBe(false); // 3 of 20
  });

  it("keeps only the last 20 evaluations", () => {
    expect(run(Array.from({ length: 50 }, (_, i) => i % 2 === 0)).history).toHaveLength(FLAP_WINDOW);
    expect(changeShare("1".repeat(20))).toBe(1);
  });

  it("a target alternating every evaluation flaps, and a steady one never does (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 60 }), (n) => {
        expect(run(Array.from({ length: n }, () => true)).flapping).toBe(true);
        expect(run(Array.from({ length: n }, () => false)).flapping).toBe(false);
      }),
    );
  });
});
