// The gateway's Prometheus metrics, registered on the instance's registry: connections,
// heartbeat rate, refused logins, bad frames and results.
import { rejectedReasonSchema } from "@vantage/protocol";
import { Counter, Gauge, type Registry } from "prom-client";
import { eachValue, zeroSeries } from "../../http/index.ts";

/** Every code a bad frame is counted under. */
export const BAD_FRAME_CODES = ["malformed_json", "invalid_frame", "binary_frame", "unexpected_hello", "unassigned_check"] as const;
export type BadFrameCode = (typeof BAD_FRAME_CODES)[number];

export interface GatewayMetrics {
  heartbeats: Counter;
  authFailures: Counter<"reason">;
  badFrames: Counter<"code">;
  resultsReceived: Counter;
  resultsDuplicate: Counter;
  resultsDropped: Counter<"reason">;
  slowConsumers: Counter;
  refusedUpgrades: Counter<"reason">;
}

export function createGatewayMetrics(registry: Registry | undefined, connectedSatellites: () => number): GatewayMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: "vantage_satellite_connections",
    help: "Authenticated satellite sockets held by this process",
    registers,
    collect() {
      this.set(connectedSatellites());
    },
  });
  return {
    heartbeats: new Counter({ name: "vantage_satellite_heartbeats_received_total", help: "Heartbeat frames received by this process", registers }),
    authFailures: zeroSeries(
      new Counter({
        name: "vantage_satellite_auth_failures_total",
        help: "Satellite connections refused before or at hello, by rejected reason",
        labelNames: ["reason"] as const,
        registers,
      }),
      eachValue("reason", rejectedReasonSchema.options),
    ),
    badFrames: zeroSeries(
      new Counter({
        name: "vantage_satellite_bad_frames_total",
        help: "Frames answered with an error frame (malformed, invalid, unexpected), by error code",
        labelNames: ["code"] as const,
        registers,
      }),
      eachValue("code", BAD_FRAME_CODES),
    ),
    resultsReceived: new Counter({ name: "vantage_satellite_results_received_total", help: "Valid result frames received", registers }),
    resultsDuplicate: new Counter({
      name: "vantage_satellite_results_duplicate_total",
      help: "Results received again after they were stored; acknowledged again, not stored twice",
      registers,
    }),
    resultsDropped: zeroSeries(
      new Counter({
        name: "vantage_satellite_results_dropped_total",
        help: "Results not stored, by reason (unassigned: a check not assigned to that satellite; sink_failed: storing failed, not acknowledged)",
        labelNames: ["reason"] as const,
        registers,
      }),
      eachValue("reason", ["unassigned", "sink_failed"]),
    ),
    slowConsumers: new Counter({
      name: "vantage_satellite_slow_consumers_total",
      help: "Sockets cut off because they did not read what the core sent (send buffer over its bound)",
      registers,
    }),
    refusedUpgrades: zeroSeries(
      new Counter({
        name: "vantage_satellite_upgrades_refused_total",
        help: "WebSocket upgrades refused before a socket existed, by reason (unauthenticated_limit: too many sockets of one address awaiting welcome)",
        labelNames: ["reason"] as const,
        registers,
      }),
      eachValue("reason", ["unauthenticated_limit"]),
    ),
  };
}
