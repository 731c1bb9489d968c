// The satellite gateway: the `/ws/satellite` endpoint and every socket on this process.
export { createSatelliteGateway, SATELLITE_GATEWAY_PATH } from "./satellite-gateway.ts";
export type { SatelliteGateway, SatelliteGatewayOptions } from "./satellite-gateway.ts";
export type { AssignmentsFor, AuthenticateSatellite, AuthenticatedSatellite, ResultSink, SatelliteSession, SessionObserver } from "./gateway-context.ts";
export { CLOSE_CODES } from "./satellite-connection.ts";
export type { FailureLimit } from "../../auth/index.ts";
