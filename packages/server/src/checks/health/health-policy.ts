// The policy over a check's locations: how many observable locations must be unhealthy for
// the check to be, what a failing minority is (degraded, "partial outage"), and what too few
// observers are (degraded, quorum_unavailable — never unhealthy; none at all: unknown).
import type { HealthPolicy } from "@vantage/protocol";
import type { LocationStatus } from "./location-health.ts";

export type CheckHealthStatus = "healthy" | "degraded" | "unhealthy" | "unknown";

/** Why the policy decided what it did; the reason text is written from it. */
export type PolicyOutcome = "no_observers" | "quorum_unavailable" | "failing" | "partial_outage" | "degraded_locations" | "healthy";

export interface PolicyVerdict {
  status: CheckHealthStatus;
  outcome: PolicyOutcome;
  /** Unhealthy locations needed for the check to be unhealthy (given the observers now). */
  needed: number;
}

/**
 * Unhealthy locations the policy needs: `any` one, `all` of O, `quorum` n, and `percent` p of
 * the check's known locations, rounded up (at least one). Known, not observable: with a
 * percentage of the observers, losing observers could never leave too few for a verdict.
 */
export function unhealthyNeeded(policy: HealthPolicy, observable: number, known: number): number {
  if (policy === "any") return 1;
  if (policy === "all") return Math.max(observable, 1);
  if ("quorum" in policy) return policy.quorum;
  // A tiny tolerance: 100 × 0.07 is 7.000000000000001, and ⌈…⌉ must not make it 8.
  return Math.max(1, Math.ceil((policy.percent / 100) * known - 1e-9));
}

/** The check's status from its locations' shown statuses. */
export function applyPolicy(policy: HealthPolicy, statuses: readonly LocationStatus[]): PolicyVerdict {
  const observable = statuses.filter((status) => status !== "unobservable");
  const unhealthy = observable.filter((status) => status === "unhealthy").length;
  const needed = unhealthyNeeded(policy, observable.length, statuses.length);
  if (observable.length === 0) return { status: "unknown", outcome: "no_observers", needed };
  if (observable.length < needed) return { status: "degraded", outcome: "quorum_unavailable", needed };
  if (unhealthy >= needed) return { status: "unhealthy", outcome: "failing", needed };
  if (unhealthy > 0) return { status: "degraded", outcome: "partial_outage", needed };
  if (observable.includes("degraded")) return { status: "degraded", outcome: "degraded_locations", needed };
  return { status: "healthy", outcome: "healthy", needed };
}
