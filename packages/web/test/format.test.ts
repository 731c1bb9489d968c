// The pure helpers behind list cells: relative times and durations.
import { describe, expect, it } from "vitest";
import { formatAgo, formatDuration } from "../src/ui/time.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const before = (ms: number) => new Date(NOW - ms).toISOString();

describe("relative times", () => {
  it("reads seconds, minutes, hours and days ago, and never for no time at all", () => {
    expect(formatAgo(null, NOW)).toBe("never");
    expect(formatAgo(before(2_000), NOW)).toBe("just now");
    expect(formatAgo(before(42_000), NOW)).toBe("42 s ago");
    expect(formatAgo(before(5 * 60_000 + 59_000), NOW)).toBe("5 min ago");
    expect(formatAgo(before(3 * 3_600_000), NOW)).toBe("3 h ago");
    expect(formatAgo(before(4 * 86_400_000), NOW)).toBe("4 d ago");
  });

  it("reads a time slightly in the future (another core's clock) as just now", () => {
    expect(formatAgo(new Date(NOW + 3_000).toISOString(), NOW)).toBe("just now");
  });

  it("gives durations at the unit that reads best, and none while unfinished", () => {
    expect(formatDuration(before(850), before(0))).toBe("850 ms");
    expect(formatDuration(before(4_200), before(0))).toBe("4.2 s");
    expect(formatDuration(before(200_000), before(0))).toBe("3 min 20 s");
    expect(formatDuration(before(7_500_000), before(0))).toBe("2 h 5 min");
    expect(formatDuration(before(1_000), null)).toBeNull();
  });
});
