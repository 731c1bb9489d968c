// The gateway's Prometheus metrics, registered on the instance's registry: connections,
// heartbeat rate, refused logins, bad frames and results.
import { Counter, Gauge, type Registry } from "prom-client";

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
    name: "satellite_connections",
    help: "Authenticated satellite sockets held by this process",
    registers,
    collect() {
      this.set(connectedSatellites());
    },
  });
  return {
    heartbeats: new Counter({ name: "satellite_heartbeats_received_total", help: "Heartbeat frames received by this process", registers }),
    authFailures: new Counter({
      name: "satellite_auth_failures_total",
      help: "Satellite connections refused before or at hello, by rejected reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    badFrames: new Counter({
      name: "satellite_bad_frames_total",
      help: "Frames answered with an error frame (malformed, invalid, unexpected), by error code",
      labelNames: ["code"] as const,
      registers,
    }),
    resultsReceived: new Counter({ name: "satellite_results_received_total", help: "Valid result frames received", registers }),
    resultsDuplicate: new Counter({
      name: "satellite_results_duplicate_total",
      help: "Results received again after they were stored; acknowledged again, not stored twice",
      registers,
    }),
    resultsDropped: new Counter({
      name: "satellite_results_dropped_total",
      help: "Results not stored, by reason (unassigned: a check not assigned to that satellite; sink_failed: storing failed, not acknowledged)",
      labelNames: ["reason"] as const,
      registers,
    }),
    slowConsumers: new Counter({
      name: "satellite_slow_consumers_total",
      help: "Sockets cut off because they did not read what the core sent (send buffer over its bound)",
      registers,
    }),
    refusedUpgrades: new Counter({
      name: "satellite_upgrades_refused_total",
      help: "WebSocket upgrades refused before a socket existed, by reason (unauthenticated_limit: too many sockets of one address awaiting welcome)",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}
