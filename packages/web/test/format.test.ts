// The pure helpers behind list cells and the satellite start command: relative times,
// durations, shell quoting, tag splitting, and where Login may send the user back to.
import { describe, expect, it } from "vitest";
import { satelliteStartCommand, shellQuote } from "../src/features/satellites/start-command.ts";
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

describe("the satellite start command", () => {
  it("passes the credentials in the environment of `vantage satellite`, for the core's origin", () => {
    expect(satelliteStartCommand("https://vantage.example:8443/satellites?x=1", "6f0c1a2b-0000-4000-8000-000000000001", "vsat_abc-DEF_123")).toBe(
      "VANTAGE_URL=https://vantage.example:8443 \\\n  VANTAGE_SATELLITE_ID=6f0c1a2b-0000-4000-8000-000000000001 \\\n  VANTAGE_SATELLITE_TOKEN=vsat_abc-DEF_123 \\\n  npx vantage satellite",
    );
  });

  it("quotes what a shell would split or expand", () => {
    expect(shellQuote("plain-value_1.2")).toBe("plain-value_1.2");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's $HOME")).toBe(`'it'"'"'s $HOME'`);
  });
});
