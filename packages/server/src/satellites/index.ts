// Satellites: the registry table, the satellite-connection entity and its triggers.
export { SatelliteService } from "./service.ts";
export type { SatelliteServiceOptions } from "./service.ts";
export * from "./entity.ts";
export { satelliteTriggers, satelliteConnectedTrigger, satelliteDisconnectedTrigger, satelliteHeartbeatLostTrigger } from "./automations.ts";
export { computeStatus, effectiveThresholdMs } from "./status.ts";
