// The satellite-connection entity: its state schema, how a satellites row becomes that
// state, and how its changes become the satellite.* trigger events and their payload.
import type { EntityChanged } from "@vantage/protocol";
import { z } from "zod";
import type { EntityRead, SqlClient } from "../../entities/index.ts";
import type { SatelliteTriggerPayload } from "./triggers.ts";
import { computeStatus } from "./status.ts";

export const SATELLITE_CONNECTION_ENTITY_KIND = "satellite-connection";

export const SATELLITE_CONNECTED_EVENT = "satellite.connected";
export const SATELLITE_DISCONNECTED_EVENT = "satellite.disconnected";
export const SATELLITE_HEARTBEAT_LOST_EVENT = "satellite.heartbeat_lost";

/** The last lifecycle edge, as stored in `satellites.last_connection_event`. */
export const satelliteConnectionEventEnum = z.enum(["connected", "disconnected", "heartbeat_lost"]);
export type SatelliteConnectionEvent = z.infer<typeof satelliteConnectionEventEnum>;

export const satelliteStatusSchema = z.enum(["online", "offline"]);

/** How many checks an outage affects, with the first names (sorted). */
export const affectedChecksSchema = z.object({ count: z.number().int().min(0), names: z.array(z.string()) });

export const satelliteConnectionStateSchema = z.object({
  status: satelliteStatusSchema,
  name: z.string(),
  region: z.string(),
  /** ISO-8601 time of the last heartbeat; null after a clean disconnect. */
  lastSeenAt: z.string().nullable(),
  lastEvent: satelliteConnectionEventEnum,
  /**
   * While offline: the checks this satellite is a location of (how many, the first names), so
   * one automation can page once for the root cause. Absent while online.
   */
  affectedChecks: affectedChecksSchema.optional(),
});
export type SatelliteConnectionState = z.infer<typeof satelliteConnectionStateSchema>;

/** Dispatch table: each lifecycle edge names exactly one trigger event. */
/** Every event the deriver may emit. */
export const SATELLITE_CONNECTION_EVENTS = [SATELLITE_CONNECTED_EVENT, SATELLITE_DISCONNECTED_EVENT, SATELLITE_HEARTBEAT_LOST_EVENT] as const;

const EVENT_OF: Record<SatelliteConnectionEvent, string> = {
  connected: SATELLITE_CONNECTED_EVENT,
  disconnected: SATELLITE_DISCONNECTED_EVENT,
  heartbeat_lost: SATELLITE_HEARTBEAT_LOST_EVENT,
};

/** A change that touches one of these (or creates the state) is a lifecycle edge. */
/**
 * The cause type of a registry edit (rename, new region or threshold). Such a change is
 * recorded, so history shows who renamed what, but it is no lifecycle edge and fires no
 * connection event.
 */
export const SATELLITE_REGISTRY_EDIT_CAUSE = "satellite.registry_edit";

/**
 * The change deriver: the one event named by `next.lastEvent`. A tombstone (the satellite
 * was deleted), a state without a valid `lastEvent`, or a registry edit fires nothing; nor
 * does `connected` while it was connected and online already (a reconnect after a core
 * handed it over is no new connection).
 */
export function deriveSatelliteConnectionEvents(change: EntityChanged): string[] {
  if (change.cause?.type === SATELLITE_REGISTRY_EDIT_CAUSE) return [];
  const lastEvent = satelliteConnectionEventEnum.safeParse(change.next?.lastEvent);
  if (!lastEvent.success) return [];
  if (lastEvent.data === "connected" && wasConnectedAndOnline(change.prev)) return [];
  return [EVENT_OF[lastEvent.data]];
}

function wasConnectedAndOnline(prev: EntityChanged["prev"]): boolean {
  return prev?.lastEvent === "connected" && prev.status === "online";
}

/**
 * The payload mapper. A tombstone maps to null: the deriver fires nothing for it, so no
 * trigger ever receives that payload. Fields are read defensively (the framework validated
 * `next` when it was written) so a hand-built change can never make the mapper throw.
 */
export function satelliteChangeToPayload(change: EntityChanged): SatelliteTriggerPayload | null {
  const next = change.next;
  if (next === null) return null;
  return {
    satelliteId: change.id,
    name: stringOr(next.name, ""),
    region: stringOr(next.region, ""),
    status: next.status === "online" ? "online" : "offline",
    lastSeenAt: stringOr(next.lastSeenAt, null),
    ...affectedChecksOf(next.affectedChecks),
  };
}

function affectedChecksOf(value: unknown): Pick<SatelliteTriggerPayload, "affectedChecks"> {
  const parsed = affectedChecksSchema.safeParse(value);
  return parsed.success ? { affectedChecks: parsed.data } : {};
}

function stringOr<Fallback>(value: unknown, fallback: Fallback): string | Fallback {
  return typeof value === "string" ? value : fallback;
}

/** The columns of a satellites row the entity state is computed from. */
export interface SatelliteConnectionRow {
  name: string;
  region: string;
  lastHeartbeatAt: Date | null;
  lastConnectionEvent: SatelliteConnectionEvent | null;
  offlineThresholdMs?: number | null;
}

/**
 * A row's entity state at `now`, or null for a satellite that never connected: it has no
 * state, so its first connect is recorded as a create.
 */
export function toSatelliteConnectionState(row: SatelliteConnectionRow, now: number | Date = Date.now()): SatelliteConnectionState | null {
  if (row.lastConnectionEvent === null) return null;
  return {
    status: computeStatus({ lastHeartbeatAt: row.lastHeartbeatAt, offlineThresholdMs: row.offlineThresholdMs }, now),
    name: row.name,
    region: row.region,
    lastSeenAt: row.lastHeartbeatAt ? row.lastHeartbeatAt.toISOString() : null,
    lastEvent: row.lastConnectionEvent,
  };
}

/** The part of SatelliteService the entity's read needs. */
export interface SatelliteConnectionReader {
  getManyConnectionStates(ids: readonly string[], db?: SqlClient): Promise<Map<string, SatelliteConnectionState>>;
}

/**
 * The entity's batched read: one service call per read. Inside a mutation the framework
 * passes its transaction, which must be forwarded so prev and next are read where the
 * write happens; otherwise the service uses its own pool.
 */
export function createSatelliteConnectionRead(service: SatelliteConnectionReader): EntityRead<SatelliteConnectionState> {
  return (ids, db) => (db === undefined ? service.getManyConnectionStates(ids) : service.getManyConnectionStates(ids, db));
}
