// computeStatus, the one presence rule: online up to exactly the satellite's own threshold, offline past it or without a heartbeat.
import { OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { computeStatus, effectiveThresholdMs } from "../../../src/satellites/connection/status.ts";

const NOW = Date.parse("2025-01-01T12:00:00.000Z");
const ago = (ms: number) => new Date(NOW - ms);

describe("computeStatus", () => {
  it("is online when the heartbeat is exactly one threshold old", () => {
    expect(computeStatus({ lastHeartbeatAt: ago(OFFLINE_THRESHOLD_MS), offlineThresholdMs: null }, NOW)).toBe("online");
  });

  it("is offline one millisecond past the threshold", () => {
    expect(computeStatus({ lastHeartbeatAt: ago(OFFLINE_THRESHOLD_MS + 1), offlineThresholdMs: null }, NOW)).toBe("offline");
  });

  it("is offline without a heartbeat, whatever the threshold", () => {
    expect(computeStatus({ lastHeartbeatAt: null, offlineThresholdMs: 86_400_000 }, NOW)).toBe("offline");
    expect(computeStatus({ lastHeartbeatAt: undefined }, NOW)).toBe("offline");
  });

  it("applies the satellite's own threshold in both directions", () => {
    expect(computeStatus({ lastHeartbeatAt: ago(60_000), offlineThresholdMs: 120_000 }, NOW)).toBe("online");
    expect(computeStatus({ lastHeartbeatAt: ago(10_000), offlineThresholdMs: 5_000 }, NOW)).toBe("offline");
  });

  it.each([null, undefined, 0, -1, Number.NaN, Number.POSITIVE_INFINITY])("falls back to OFFLINE_THRESHOLD_MS for a threshold of %s", (threshold) => {
    expect(computeStatus({ lastHeartbeatAt: ago(OFFLINE_THRESHOLD_MS), offlineThresholdMs: threshold }, NOW)).toBe("online");
    expect(computeStatus({ lastHeartbeatAt: ago(OFFLINE_THRESHOLD_MS + 1), offlineThresholdMs: threshold }, NOW)).toBe("offline");
  });

  it("accepts the heartbeat as epoch milliseconds or an ISO string, and now as a Date", () => {
    expect(computeStatus({ lastHeartbeatAt: NOW - 1_000 }, new Date(NOW))).toBe("online");
    expect(computeStatus({ lastHeartbeatAt: ago(1_000).toISOString() }, NOW)).toBe("online");
    expect(computeStatus({ lastHeartbeatAt: ago(OFFLINE_THRESHOLD_MS + 1).toISOString() }, new Date(NOW))).toBe("offline");
  });

  it("is offline for a heartbeat that is not a time", () => {
    expect(computeStatus({ lastHeartbeatAt: "yesterday-ish" }, NOW)).toBe("offline");
    expect(computeStatus({ lastHeartbeatAt: new Date(Number.NaN) }, NOW)).toBe("offline");
  });

  it("reads a heartbeat from slightly in the future (clock skew) as online", () => {
    expect(computeStatus({ lastHeartbeatAt: new Date(NOW + 500) }, NOW)).toBe("online");
  });
});

describe("effectiveThresholdMs", () => {
  it("keeps a positive override and replaces anything else with the default", () => {
    expect(effectiveThresholdMs(15_000)).toBe(15_000);
    for (const bad of [null, undefined, 0, -10, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(effectiveThresholdMs(bad)).toBe(OFFLINE_THRESHOLD_MS);
    }
  });
});
