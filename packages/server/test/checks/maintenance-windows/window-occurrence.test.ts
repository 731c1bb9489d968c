// Proves when a maintenance window is on: a one-off span, weekly recurrences on chosen days in a time zone (wall-clock time kept across DST), until, and merged overlaps.
import { describe, expect, it } from "vitest";
import { isActive, nextBoundary, occurrenceAt } from "../../../src/checks/maintenance-windows/window-occurrence.ts";

const at = (iso: string) => Date.parse(iso);
const span = (start: string, end: string) => ({ start: at(start), end: at(end) });

describe("a one-off window", () => {
  const window = { start: "2026-03-01T10:00:00Z", end: "2026-03-01T12:00:00Z" };

  it("is next before its start, active inside, and gone after its end", () => {
    expect(occurrenceAt(window, at("2026-03-01T09:00:00Z"))).toEqual(span(window.start, window.end));
    expect(isActive(occurrenceAt(window, at("2026-03-01T09:59:59.999Z")), at("2026-03-01T09:59:59.999Z"))).toBe(false);
    expect(isActive(occurrenceAt(window, at("2026-03-01T10:00:00Z")), at("2026-03-01T10:00:00Z"))).toBe(true);
    expect(occurrenceAt(window, at("2026-03-01T12:00:00Z"))).toBeNull();
  });

  it("has its start as next boundary while ahead, then its end", () => {
    const before = at("2026-03-01T09:00:00Z");
    const inside = at("2026-03-01T11:00:00Z");
    expect(nextBoundary(occurrenceAt(window, before), before)).toBe(at(window.start));
    expect(nextBoundary(occurrenceAt(window, inside), inside)).toBe(at(window.end));
    expect(nextBoundary(null, inside)).toBeNull();
  });
});

describe("a weekly window", () => {
  // Sunday 2026-03-22 02:00 in Berlin is 01:00Z (CET, +01:00); DST starts 2026-03-29, so the next Sunday's 02:00 local falls in the gap.
  const berlin = {
    start: "2026-03-15T02:00:00+01:00",
    end: "2026-03-15T04:00:00+01:00",
    recurrence: { frequency: "weekly" as const, timeZone: "Europe/Berlin" },
  };

  it("repeats on the start's weekday at the same wall-clock time, across a DST change", () => {
    expect(occurrenceAt(berlin, at("2026-03-20T00:00:00Z"))).toEqual(span("2026-03-22T01:00:00Z", "2026-03-22T03:00:00Z"));
    // After DST (+02:00): 03:00 local on 2026-04-05 is 01:00Z; the wall time 02:00 is 00:00Z.
    expect(occurrenceAt(berlin, at("2026-04-01T00:00:00Z"))).toEqual(span("2026-04-05T00:00:00Z", "2026-04-05T02:00:00Z"));
    // The autumn change (2026-10-25, +02:00 → +01:00): 02:00 happens twice, the first is taken.
    expect(occurrenceAt(berlin, at("2026-10-24T00:00:00Z"))).toEqual(span("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"));
  });

  it("is active inside an occurrence and names its end as the next boundary", () => {
    const now = at("2026-03-22T02:30:00Z");
    const occurrence = occurrenceAt(berlin, now);
    expect(isActive(occurrence, now)).toBe(true);
    expect(nextBoundary(occurrence, now)).toBe(at("2026-03-22T03:00:00Z"));
  });

  it("starts on the chosen days, never before the first start nor after until", () => {
    const weekdays = {
      start: "2026-06-01T22:00:00Z", // a Monday
      end: "2026-06-01T23:00:00Z",
      recurrence: { frequency: "weekly" as const, timeZone: "UTC", days: ["mon" as const, "thu" as const], until: "2026-06-10T00:00:00Z" },
    };
    expect(occurrenceAt(weekdays, at("2026-05-01T00:00:00Z"))).toEqual(span("2026-06-01T22:00:00Z", "2026-06-01T23:00:00Z"));
    expect(occurrenceAt(weekdays, at("2026-06-02T00:00:00Z"))).toEqual(span("2026-06-04T22:00:00Z", "2026-06-04T23:00:00Z"));
    expect(occurrenceAt(weekdays, at("2026-06-05T00:00:00Z"))).toEqual(span("2026-06-08T22:00:00Z", "2026-06-08T23:00:00Z"));
    expect(occurrenceAt(weekdays, at("2026-06-09T00:00:00Z"))).toBeNull();
  });

  it("merges occurrences that overlap into one span", () => {
    const daily = {
      start: "2026-06-01T00:00:00Z",
      end: "2026-06-02T01:00:00Z", // 25 hours, every day
      recurrence: { frequency: "weekly" as const, timeZone: "UTC", days: ["mon" as const, "tue" as const, "wed" as const] },
    };
    expect(occurrenceAt(daily, at("2026-06-01T12:00:00Z"))).toEqual(span("2026-06-01T00:00:00Z", "2026-06-04T01:00:00Z"));
  });
});
