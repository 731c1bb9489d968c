// One location's state machine: unhealthy only after its failure streak (or window) trips, back
// only after its success streak, degraded from degraded results, never rewound by late results,
// and unobservable (offline satellite, stale, probe error) without touching its streaks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyResult,
  type HealthThresholds,
  type LocationRecord,
  type LocationResult,
  newLocationRecord,
  observe,
  shownStatus,
  staleAt,
} from "../../../src/checks/health/location-health.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const NOW_ISO = new Date(T0).toISOString();
const DEFAULTS: HealthThresholds = { failuresToUnhealthy: 3, successesToRecover: 2 };

let clock = T0;
const result = (status: LocationResult["status"], problem: string | null = status === "up" ? null : `it was ${status}`): LocationResult => {
  clock += 60_000;
  return { location: "core", status, startedAt: clock, problem };
};
const feed = (statuses: ReadonlyArray<LocationResult["status"]>, thresholds = DEFAULTS, start = newLocationRecord(NOW_ISO)) =>
  statuses.reduce<LocationRecord>((record, status) => applyResult(record, result(status), thresholds, new Date(clock).toISOString()), start);
const verdicts = (statuses: ReadonlyArray<LocationResult["status"]>, thresholds = DEFAULTS, start = newLocationRecord(NOW_ISO)) => {
  const seen: string[] = [];
  statuses.reduce<LocationRecord>((record, status) => {
    const next = applyResult(record, result(status), thresholds, NOW_ISO);
    seen.push(shownStatus(next));
    return next;
  }, start);
  return seen;
};
/** A location that has seen the target up once: it has a verdict (healthy). */
const established = () => feed(["up"]);

describe("a location's state machine", () => {
  it("turns unhealthy on the third failure in a row, not before", () => {
    expect(verdicts(["down", "down", "down"], DEFAULTS, established())).toEqual(["healthy", "healthy", "unhealthy"]);
  });

  it("has no verdict while a new location's first results fail below the streak: unobservable, not healthy", () => {
    // A new check whose target is down from the start says so on its third failure, not "healthy" before it.
    expect(verdicts(["down", "down", "down"])).toEqual(["unobservable", "unobservable", "unhealthy"]);
    expect(verdicts(["down", "up"])).toEqual(["unobservable", "healthy"]);
    expect(verdicts(["down", "degraded"])).toEqual(["unobservable", "degraded"]);
    expect(verdicts(["up", "down"])).toEqual(["healthy", "healthy"]);
    // A probe error says nothing about the target: still no verdict after it.
    expect(verdicts(["error", "down", "up"])).toEqual(["unobservable", "unobservable", "healthy"]);
  });

  it("keeps the verdict of a record stored before verdicts were awaited (no `concluded` field)", () => {
    const { concluded: _, ...stored } = feed(["down"], DEFAULTS, established());
    expect(shownStatus(stored)).toBe("healthy");
    expect(verdicts(["down"], DEFAULTS, stored)).toEqual(["healthy"]);
  });

  it("does not turn unhealthy when a success breaks the streak", () => {
    expect(verdicts(["down", "down", "up", "down", "down"])).toEqual(["unobservable", "unobservable", "healthy", "healthy", "healthy"]);
  });

  it("recovers on the second success in a row, not the first", () => {
    expect(verdicts(["down", "down", "down", "up", "up"]).slice(3)).toEqual(["unhealthy", "healthy"]);
    expect(verdicts(["down", "down", "down", "up", "down", "up"]).slice(3)).toEqual(["unhealthy", "unhealthy", "unhealthy"]);
  });

  it("is degraded from a degraded result, and a degraded result counts towards recovery", () => {
    expect(verdicts(["degraded", "up"])).toEqual(["degraded", "healthy"]);
    expect(verdicts(["down", "down", "down", "degraded", "degraded"]).slice(3)).toEqual(["unhealthy", "degraded"]);
  });

  it("keeps a degraded verdict through failures below the streak", () => {
    expect(verdicts(["degraded", "down", "down"])).toEqual(["degraded", "degraded", "degraded"]);
  });

  it("with a window, turns unhealthy once `failures` of the last `size` results failed, even interleaved", () => {
    const window = { ...DEFAULTS, window: { size: 5, failures: 3 } };
    expect(verdicts(["down", "up", "down", "up", "down"], window)).toEqual(["unobservable", "healthy", "healthy", "healthy", "unhealthy"]);
    // Failures that slid out of the window no longer count.
    expect(verdicts(["down", "up", "up", "up", "up", "down", "down"], window).at(-1)).toBe("healthy");
  });

  it("ignores a result no newer than the last one applied (a replayed buffer never rewinds it)", () => {
    const record = feed(["down", "down", "down"]);
    const late: LocationResult = { location: "core", status: "up", startedAt: clock - 120_000, problem: null };
    expect(applyResult(record, late, DEFAULTS, NOW_ISO)).toBe(record);
  });

  it("makes a probe error unobservable, leaves the streaks alone, and the next real result observes again", () => {
    const twoDown = feed(["down", "down"]);
    const errored = feed(["error"], DEFAULTS, twoDown);
    expect(shownStatus(errored)).toBe("unobservable");
    expect(errored.failures).toBe(2);
    expect(shownStatus(feed(["down"], DEFAULTS, errored))).toBe("unhealthy");
  });

  it("remembers what the last failing result said and forgets it after an up", () => {
    expect(feed(["down"]).problem).toBe("it was down");
    expect(feed(["down", "up"]).problem).toBeNull();
  });

  it("keeps the problem that made it unhealthy while it stays so (the reason does not churn)", () => {
    const unhealthy = feed(["down", "down", "down"]);
    const later = applyResult(unhealthy, result("down", "status 502"), DEFAULTS, NOW_ISO);
    expect(later.problem).toBe("it was down");
    expect(applyResult(feed(["degraded"]), result("degraded", "took 900 ms"), DEFAULTS, NOW_ISO).problem).toBe("it was degraded");
  });

  it("moves `since` only when the shown status changes", () => {
    const start = newLocationRecord("2026-01-01T00:00:00.000Z");
    const once = applyResult(start, result("down"), DEFAULTS, "2026-01-01T00:01:00.000Z");
    expect(once.since).toBe("2026-01-01T00:00:00.000Z");
    const twice = applyResult(applyResult(once, result("down"), DEFAULTS, "x"), result("down"), DEFAULTS, "2026-01-01T00:03:00.000Z");
    expect(twice.since).toBe("2026-01-01T00:03:00.000Z");
  });

  it("never turns unhealthy without `failuresToUnhealthy` failures in a row, and always does with them (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("up", "degraded", "down", "error") as fc.Arbitrary<LocationResult["status"]>, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (statuses, failuresToUnhealthy, successesToRecover) => {
          const thresholds = { failuresToUnhealthy, successesToRecover };
          let record = newLocationRecord(NOW_ISO);
          let streak = 0;
          for (const status of statuses) {
            const wasUnhealthy = record.verdict === "unhealthy";
            record = applyResult(record, result(status), thresholds, NOW_ISO);
            if (status === "down") streak += 1;
            else if (status !== "error") streak = 0;
            if (!wasUnhealthy && record.verdict === "unhealthy") expect(streak).toBeGreaterThanOrEqual(failuresToUnhealthy);
            if (streak >= failuresToUnhealthy) expect(record.verdict).toBe("unhealthy");
            if (wasUnhealthy && record.verdict !== "unhealthy") expect(record.successes).toBeGreaterThanOrEqual(successesToRecover);
          }
        },
      ),
    );
  });
});

describe("a location's observability", () => {
  const fresh = { ...feed(["up"]), lastResultAt: new Date(T0).toISOString() };
  const facts = { presence: "online" as const, stalenessMs: 100_000, now: T0 + 50_000 };

  it("is observable while online with a result younger than the staleness limit", () => {
    expect(observe(fresh, facts, NOW_ISO).unobservable).toBeNull();
  });

  it("is unobservable when its satellite is offline, however fresh its results", () => {
    expect(observe(fresh, { ...facts, presence: "offline" }, NOW_ISO).unobservable).toBe("satellite_offline");
  });

  it("is stale one millisecond past the limit, not at it", () => {
    expect(observe(fresh, { ...facts, now: T0 + 100_000 }, NOW_ISO).unobservable).toBeNull();
    expect(observe(fresh, { ...facts, now: T0 + 100_001 }, NOW_ISO).unobservable).toBe("stale");
  });

  it("observes again once the satellite is back and a fresh result came", () => {
    const offline = observe(fresh, { ...facts, presence: "offline" }, "2026-01-01T00:05:00.000Z");
    const back = observe(offline, facts, "2026-01-01T00:06:00.000Z");
    expect(back.unobservable).toBeNull();
    expect(back.since).toBe("2026-01-01T00:06:00.000Z");
  });

  it("knows when it will go stale, and that a stale location cannot go stale again", () => {
    expect(staleAt(fresh, 100_000)).toBe(T0 + 100_000);
    expect(staleAt(observe(fresh, { ...facts, now: T0 + 200_000 }, NOW_ISO), 100_000)).toBeNull();
  });
});
