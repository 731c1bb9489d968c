// Which evaluations are recorded as entity changes: a record moved only by its results (their
// times, streaks, the flap window, the deadline) is written quietly; what the state shows is not.
import { DEFAULT_CHECK_HEALTH } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { materiallyDiffers } from "../../../src/checks/health/check-health-entity.ts";
import { type CheckHealthRecord, evaluateCheckHealth } from "../../../src/checks/health/evaluate-check-health.ts";
import type { LocationResult } from "../../../src/checks/health/location-health.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function evaluate(previous: CheckHealthRecord | null, results: Array<Omit<LocationResult, "startedAt" | "problem">>, at: number): CheckHealthRecord {
  return evaluateCheckHealth({
    previous,
    results: results.map((result) => ({ ...result, startedAt: at - 1_000, problem: result.status === "up" ? null : "status 503, expected 2xx" })),
    options: { ...DEFAULT_CHECK_HEALTH, failuresToUnhealthy: 2 },
    stalenessMs: 100_000,
    presence: () => "online",
    nameOf: (location) => location,
    now: at,
  });
}

describe("materiallyDiffers", () => {
  const first = evaluate(
    null,
    [
      { location: "core", status: "up" },
      { location: "eu", status: "up" },
    ],
    T0,
  );

  it("is true for a first state", () => {
    expect(materiallyDiffers(null, first)).toBe(true);
  });

  it("is false for a record moved only by its results: last result times, streaks, flap window, deadline", () => {
    const next = evaluate(
      first,
      [
        { location: "core", status: "up" },
        { location: "eu", status: "up" },
      ],
      T0 + 60_000,
    );
    expect(next.locations.core!.lastResultAt).not.toBe(first.locations.core!.lastResultAt);
    expect(next.flapHistory).not.toBe(first.flapHistory);
    expect(materiallyDiffers(first, next)).toBe(false);
  });

  it("is false for a first failure below the threshold that leaves the reason as it was", () => {
    const next = evaluate(first, [{ location: "eu", status: "down" }], T0 + 60_000);
    expect(next.locations.eu!.failures).toBe(1);
    expect(materiallyDiffers(first, next)).toBe(false);
  });

  it("is true when a location's shown status changes, a location is added or dropped, or the check's status changes", () => {
    const failing = evaluate(first, [{ location: "eu", status: "down" }], T0 + 60_000);
    const unhealthy = evaluate(failing, [{ location: "eu", status: "down" }], T0 + 120_000);
    expect(unhealthy.locations.eu!.verdict).toBe("unhealthy");
    expect(materiallyDiffers(failing, unhealthy)).toBe(true);
    const added = evaluate(first, [{ location: "us", status: "up" }], T0 + 60_000);
    expect(materiallyDiffers(first, added)).toBe(true);
    const { eu: _dropped, ...onlyCore } = first.locations;
    expect(materiallyDiffers(first, { ...first, locations: onlyCore })).toBe(true);
    expect(materiallyDiffers(first, { ...first, maintenance: true })).toBe(true);
    expect(materiallyDiffers(first, { ...first, flapping: true })).toBe(true);
  });
});
