// Satellites: the registry (table, admin API, tokens, revocations), the satellite-connection
// entity and its triggers.
export { SatelliteService } from "./connection/service.ts";
export type { AffectedChecks, SatelliteOutageObserver } from "./connection/service.ts";
// The one presence rule, for every reader (check health reads satellite locations with it).
export { computeStatus } from "./connection/status.ts";
export { satelliteTriggers } from "./connection/triggers.ts";
export { SatelliteRegistry, satelliteInputSchemas } from "./registry/registry.ts";
export { createSatelliteRoutes } from "./registry/registry-routes.ts";
export { createHeartbeatBuffer } from "./connection/heartbeat-buffer.ts";
export { createHeartbeatMonitor } from "./connection/heartbeat-monitor.ts";
export type { HeartbeatMonitor } from "./connection/heartbeat-monitor.ts";
export { SATELLITE_CONNECTION_ENTITY_KIND, satelliteConnectionStateSchema } from "./connection/entity.ts";
export { createSatelliteGateway } from "./gateway/index.ts";
export type { AssignmentsFor, AuthenticatedSatellite, ResultSink, SatelliteGateway, SatelliteSession, SessionObserver } from "./gateway/index.ts";
export { parseProfileChange, SATELLITE_PROFILE_CHANGED_CHANNEL } from "./registry/profile-changes.ts";
export type { SatelliteProfile } from "./registry/profile-changes.ts";
export { startSatellites } from "./start.ts";
export type { SatelliteChecks, SatellitesModule, SatellitesOptions } from "./start.ts";
