// Satellites: the registry (table, admin API, tokens, revocations), the satellite-connection
// entity and its triggers.
export { SatelliteService } from "./service.ts";
export type { SatelliteServiceOptions } from "./service.ts";
export * from "./entity.ts";
export { satelliteTriggers, satelliteConnectedTrigger, satelliteDisconnectedTrigger, satelliteHeartbeatLostTrigger } from "./automations.ts";
export { computeStatus, effectiveThresholdMs } from "./status.ts";
export { MAX_OFFLINE_THRESHOLD_MS, SatelliteRegistry, satelliteInputSchemas } from "./registry.ts";
export type { CreateSatelliteRequest, RegistryContext, SatelliteCredentials, SatelliteRegistryOptions, SatelliteView, UpdateSatelliteRequest } from "./registry.ts";
export { createSatelliteRoutes } from "./registry-routes.ts";
export type { SatelliteRoutesOptions } from "./registry-routes.ts";
export { SATELLITE_REVOKED_CHANNEL, parseRevocation, publishRevocation, satelliteRevocationSchema } from "./revocations.ts";
export type { SatelliteRevocation } from "./revocations.ts";
export { SATELLITE_TOKEN_PREFIX, generateSatelliteToken, hashToken, verifyAgainstDecoy, verifySecret } from "./tokens.ts";
export { createHeartbeatBuffer, HEARTBEAT_FLUSH_INTERVAL_MS } from "./heartbeat-buffer.ts";
export type { HeartbeatBuffer, HeartbeatBufferOptions, HeartbeatFlush } from "./heartbeat-buffer.ts";
export { createHeartbeatMonitor, HEARTBEAT_MONITOR_INTERVAL_MS } from "./heartbeat-monitor.ts";
export type { HeartbeatMonitor, HeartbeatMonitorOptions } from "./heartbeat-monitor.ts";
export * from "./gateway/index.ts";
