// The satellite-connection entity: edges derive exactly their trigger events, payloads every satellite trigger accepts, state read from rows.
import { type EntityChanged, OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import { describe, expect, it, vi } from "vitest";
import type { SqlClient } from "../../../src/entities/index.ts";
import {
  SATELLITE_CONNECTED_EVENT,
  SATELLITE_CONNECTION_ENTITY_KIND,
  SATELLITE_DISCONNECTED_EVENT,
  SATELLITE_HEARTBEAT_LOST_EVENT,
  SATELLITE_REGISTRY_EDIT_CAUSE,
  type SatelliteConnectionState,
  createSatelliteConnectionRead,
  deriveSatelliteConnectionEvents,
  satelliteChangeToPayload,
  satelliteConnectionStateSchema,
  toSatelliteConnectionState,
} from "../../../src/satellites/connection/entity.ts";
import { satelliteTriggers } from "../../../src/satellites/connection/triggers.ts";

const SATELLITE_ID = "0b4f3c5e-8d7a-4e39-9a51-3c2d1e0f9a8b";
const NOW = Date.parse("2025-01-01T12:00:00.000Z");
const ago = (ms: number) => new Date(NOW - ms);

function state(overrides: Partial<SatelliteConnectionState> = {}): SatelliteConnectionState {
  return { status: "online", name: "eu-1", region: "eu-west", lastSeenAt: new Date(NOW).toISOString(), lastEvent: "connected", ...overrides };
}

function change(next: Record<string, unknown> | null, prev: Record<string, unknown> | null = null): EntityChanged {
  return {
    kind: SATELLITE_CONNECTION_ENTITY_KIND,
    id: SATELLITE_ID,
    prev,
    next,
    delta: next ?? {},
    changedFields: Object.keys(next ?? prev ?? {}).sort(),
    actor: { type: "satellite", id: SATELLITE_ID },
    occurredAt: new Date(NOW).toISOString(),
  };
}

describe("deriveSatelliteConnectionEvents", () => {
  it.each([
    ["connected", SATELLITE_CONNECTED_EVENT, null],
    ["disconnected", SATELLITE_DISCONNECTED_EVENT, state()],
    ["heartbeat_lost", SATELLITE_HEARTBEAT_LOST_EVENT, state()],
  ] as const)("fires exactly one event for the %s edge", (lastEvent, eventId, prev) => {
    expect(deriveSatelliteConnectionEvents(change(state({ lastEvent }), prev))).toEqual([eventId]);
  });

  it("fires satellite.connected for a recovery from heartbeat_lost", () => {
    expect(deriveSatelliteConnectionEvents(change(state(), state({ lastEvent: "heartbeat_lost", status: "offline" })))).toEqual([SATELLITE_CONNECTED_EVENT]);
  });

  it("fires nothing for a registry edit, such as a rename by an admin", () => {
    const renamed = { ...change(state({ name: "eu-2" }), state()), changedFields: ["name"], cause: { type: SATELLITE_REGISTRY_EDIT_CAUSE, id: "req-1" } };
    expect(deriveSatelliteConnectionEvents(renamed)).toEqual([]);
  });

  it("fires nothing for connected while it was connected and online already, such as a reconnect after a core handed it over", () => {
    const reconnected = { ...change(state({ lastSeenAt: new Date(NOW + 1_000).toISOString() }), state()), changedFields: ["lastSeenAt"] };
    expect(deriveSatelliteConnectionEvents(reconnected)).toEqual([]);
    const statusOnly = { ...change(state({ status: "offline" }), state()), changedFields: ["status"] };
    expect(deriveSatelliteConnectionEvents(statusOnly)).toEqual([]);
  });

  it("fires satellite.connected for a reconnect after its heartbeat expired, before the monitor recorded the loss", () => {
    const expired = state({ status: "offline", lastSeenAt: new Date(NOW - 60_000).toISOString() });
    expect(deriveSatelliteConnectionEvents({ ...change(state(), expired), changedFields: ["lastSeenAt", "status"] })).toEqual([SATELLITE_CONNECTED_EVENT]);
  });

  it("fires nothing for a tombstone", () => {
    expect(deriveSatelliteConnectionEvents(change(null, state()))).toEqual([]);
  });

  it("fires nothing when lastEvent is missing or not a lifecycle edge", () => {
    const { lastEvent: _omitted, ...withoutLastEvent } = state();
    expect(deriveSatelliteConnectionEvents(change(withoutLastEvent))).toEqual([]);
    expect(deriveSatelliteConnectionEvents(change({ ...state(), lastEvent: "rebooted" }))).toEqual([]);
    expect(deriveSatelliteConnectionEvents(change({ ...state(), lastEvent: 42 }))).toEqual([]);
  });
});

describe("satelliteChangeToPayload", () => {
  it("maps the new state to a payload every satellite trigger accepts", () => {
    const payload = satelliteChangeToPayload(change(state({ status: "offline", lastEvent: "heartbeat_lost" }), state()));
    expect(payload).toEqual({ satelliteId: SATELLITE_ID, name: "eu-1", region: "eu-west", status: "offline", lastSeenAt: new Date(NOW).toISOString() });
    for (const trigger of satelliteTriggers) {
      expect(trigger.payloadSchema.parse(payload)).toEqual(payload);
      expect(trigger.contextKey(trigger.payloadSchema.parse(payload))).toBe(SATELLITE_ID);
    }
  });

  it("gives lastSeenAt null unless the state carries a string", () => {
    const disconnected = satelliteChangeToPayload(change(state({ status: "offline", lastSeenAt: null, lastEvent: "disconnected" })));
    expect(disconnected).toMatchObject({ lastSeenAt: null, status: "offline" });
    const { lastSeenAt: _omitted, ...withoutLastSeen } = state();
    const missing = satelliteChangeToPayload(change(withoutLastSeen));
    expect(missing).toMatchObject({ lastSeenAt: null });
    for (const trigger of satelliteTriggers) {
      expect(trigger.payloadSchema.safeParse(disconnected).success).toBe(true);
      expect(trigger.payloadSchema.safeParse(missing).success).toBe(true);
    }
  });

  it("maps a tombstone to null: it fires no trigger", () => {
    expect(satelliteChangeToPayload(change(null, state()))).toBeNull();
  });
});

describe("satellite triggers", () => {
  it("are exactly the events the deriver emits", () => {
    expect(satelliteTriggers.map((trigger) => trigger.id)).toEqual([SATELLITE_CONNECTED_EVENT, SATELLITE_DISCONNECTED_EVENT, SATELLITE_HEARTBEAT_LOST_EVENT]);
  });

  it("reject a payload with an unknown status", () => {
    const payload = { satelliteId: SATELLITE_ID, name: "eu-1", region: "eu-west", status: "flapping", lastSeenAt: null };
    for (const trigger of satelliteTriggers) expect(trigger.payloadSchema.safeParse(payload).success).toBe(false);
  });
});

describe("toSatelliteConnectionState", () => {
  const row = { name: "eu-1", region: "eu-west", offlineThresholdMs: null };

  it("reads a fresh heartbeat as online", () => {
    const heartbeat = ago(1_000);
    expect(toSatelliteConnectionState({ ...row, lastHeartbeatAt: heartbeat, lastConnectionEvent: "connected" }, NOW)).toEqual({
      status: "online",
      name: "eu-1",
      region: "eu-west",
      lastSeenAt: heartbeat.toISOString(),
      lastEvent: "connected",
    });
  });

  it("reads a connected row whose heartbeat aged past the threshold as offline, still connected", () => {
    const heartbeat = ago(OFFLINE_THRESHOLD_MS + 1);
    expect(toSatelliteConnectionState({ ...row, lastHeartbeatAt: heartbeat, lastConnectionEvent: "connected" }, NOW)).toMatchObject({
      status: "offline",
      lastSeenAt: heartbeat.toISOString(),
      lastEvent: "connected",
    });
  });

  it("reads a clean disconnect as offline with no lastSeenAt", () => {
    expect(toSatelliteConnectionState({ ...row, lastHeartbeatAt: null, lastConnectionEvent: "disconnected" }, NOW)).toEqual({
      status: "offline",
      name: "eu-1",
      region: "eu-west",
      lastSeenAt: null,
      lastEvent: "disconnected",
    });
  });

  it("gives a satellite that never connected no state", () => {
    expect(toSatelliteConnectionState({ ...row, lastHeartbeatAt: null, lastConnectionEvent: null }, NOW)).toBeNull();
  });

  it("keeps an old heartbeat online under a longer per-satellite threshold", () => {
    const facts = { ...row, lastHeartbeatAt: ago(10 * 60_000), lastConnectionEvent: "connected" as const };
    expect(toSatelliteConnectionState({ ...facts, offlineThresholdMs: 15 * 60_000 }, NOW)?.status).toBe("online");
    expect(toSatelliteConnectionState(facts, NOW)?.status).toBe("offline");
  });

  it("reads a recent heartbeat offline under a shorter per-satellite threshold", () => {
    const facts = { ...row, lastHeartbeatAt: ago(10_000), lastConnectionEvent: "connected" as const };
    expect(toSatelliteConnectionState({ ...facts, offlineThresholdMs: 5_000 }, NOW)?.status).toBe("offline");
    expect(toSatelliteConnectionState(facts, NOW)?.status).toBe("online");
  });

  it("produces states the entity schema accepts", () => {
    const produced = toSatelliteConnectionState({ ...row, lastHeartbeatAt: ago(1), lastConnectionEvent: "heartbeat_lost" }, NOW);
    expect(satelliteConnectionStateSchema.parse(produced)).toEqual(produced);
  });
});

describe("satelliteConnectionStateSchema", () => {
  it("rejects an unknown status", () => {
    expect(satelliteConnectionStateSchema.safeParse({ ...state(), status: "degraded" }).success).toBe(false);
  });

  it("rejects an unknown lastEvent", () => {
    expect(satelliteConnectionStateSchema.safeParse({ ...state(), lastEvent: "rebooted" }).success).toBe(false);
  });
});

describe("createSatelliteConnectionRead", () => {
  const known = state();

  function fakeService() {
    return {
      getManyConnectionStates: vi.fn(async (ids: readonly string[], _db?: SqlClient) => {
        return new Map(ids.filter((id) => id === SATELLITE_ID).map((id) => [id, known] as const));
      }),
    };
  }

  it("makes one service call with the same ids array and omits ids without state", async () => {
    const service = fakeService();
    const ids = [SATELLITE_ID, "5d3c2b1a-0f9e-4d8c-b7a6-958473625140"];
    const result = await createSatelliteConnectionRead(service)(ids);
    expect(service.getManyConnectionStates).toHaveBeenCalledTimes(1);
    expect(service.getManyConnectionStates).toHaveBeenCalledWith(ids);
    expect(service.getManyConnectionStates.mock.calls[0]![0]).toBe(ids);
    expect(service.getManyConnectionStates.mock.calls[0]).toHaveLength(1);
    expect(result).toEqual(new Map([[SATELLITE_ID, known]]));
  });

  it("forwards the mutation's transaction to the service", async () => {
    const service = fakeService();
    const tx: SqlClient = { query: vi.fn() } as unknown as SqlClient;
    const ids = [SATELLITE_ID];
    await createSatelliteConnectionRead(service)(ids, tx);
    expect(service.getManyConnectionStates).toHaveBeenCalledTimes(1);
    expect(service.getManyConnectionStates.mock.calls[0]![0]).toBe(ids);
    expect(service.getManyConnectionStates.mock.calls[0]![1]).toBe(tx);
  });
});
