// The triggers the satellites module offers automations. Their ids are exactly what the
// satellite-connection change deriver emits; all three carry the same payload.
import { z } from "zod";
import { defineTrigger } from "../../automations/index.ts";
import {
  affectedChecksSchema,
  SATELLITE_CONNECTED_EVENT,
  SATELLITE_DISCONNECTED_EVENT,
  SATELLITE_HEARTBEAT_LOST_EVENT,
  satelliteStatusSchema,
} from "./entity.ts";

export const satelliteTriggerPayloadSchema = z.object({
  satelliteId: z.string(),
  name: z.string(),
  region: z.string(),
  status: satelliteStatusSchema,
  /** ISO-8601 time of the last heartbeat; null after a clean disconnect. */
  lastSeenAt: z.string().nullable(),
  /**
   * heartbeat_lost and disconnected: the checks this satellite is a location of — `count` and the
   * first `names` (sorted). Those it alone observed go unknown and fire no check.unhealthy, so
   * one automation on this trigger pages once for the root cause.
   */
  affectedChecks: affectedChecksSchema.optional(),
});
export type SatelliteTriggerPayload = z.infer<typeof satelliteTriggerPayloadSchema>;

/** Runs of one automation serialize per satellite (`concurrency: context`). */
const bySatellite = (payload: SatelliteTriggerPayload) => payload.satelliteId;

// For `for:`: the satellite keeps matching while its status does. A heartbeat loss followed
// by the socket closing is still one outage (offline throughout); coming back ends it.
const whileOnline = (state: Readonly<Record<string, unknown>>) => state.status === "online";
const whileOffline = (state: Readonly<Record<string, unknown>>) => state.status !== "online";

export const satelliteConnectedTrigger = defineTrigger({
  id: SATELLITE_CONNECTED_EVENT,
  displayName: "Satellite connected",
  description: "A satellite authenticated and opened its connection, or recovered after its heartbeat was lost.",
  payloadSchema: satelliteTriggerPayloadSchema,
  contextKey: bySatellite,
  stillMatches: whileOnline,
});

export const satelliteDisconnectedTrigger = defineTrigger({
  id: SATELLITE_DISCONNECTED_EVENT,
  displayName: "Satellite disconnected",
  description: "A satellite's connection closed, cleanly or not. A close superseded by a newer connection does not fire.",
  payloadSchema: satelliteTriggerPayloadSchema,
  contextKey: bySatellite,
  stillMatches: whileOffline,
});

export const satelliteHeartbeatLostTrigger = defineTrigger({
  id: SATELLITE_HEARTBEAT_LOST_EVENT,
  displayName: "Satellite heartbeat lost",
  description: "A connected satellite sent no heartbeat for longer than its offline threshold. Fires once per outage.",
  payloadSchema: satelliteTriggerPayloadSchema,
  contextKey: bySatellite,
  stillMatches: whileOffline,
});

export const satelliteTriggers = [satelliteConnectedTrigger, satelliteDisconnectedTrigger, satelliteHeartbeatLostTrigger] as const;
