// SatelliteService's edges (connect, disconnect, heartbeat lost, recovered), each recorded once and only for the owning session, and the expiry query on its index.
import { randomUUID } from "node:crypto";
import { OFFLINE_THRESHOLD_MS, SYSTEM_ACTOR } from "@vantage/protocol";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createEntityRegistry, type EntityRegistry } from "../../../src/entities/index.ts";
import { hashSecret, hashToken } from "../../../src/auth/secrets.ts";
import { isVantageError } from "../../../src/errors.ts";
import { silentLogger } from "../../../src/log.ts";
import { satelliteTriggers } from "../../../src/satellites/connection/triggers.ts";
import { SATELLITE_CONNECTED_EVENT, SATELLITE_HEARTBEAT_LOST_EVENT } from "../../../src/satellites/connection/entity.ts";
import { SatelliteService } from "../../../src/satellites/connection/service.ts";
import { createConnectionEdges, EDGE_BATCH_TRIES } from "../../../src/satellites/gateway/connection-edges.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { roundTripsOfTransaction, statementsSent, textOf } from "../../support/query-text.ts";

const logger = silentLogger();
const START = Date.parse("2025-01-01T12:00:00.000Z");
const pools: pg.Pool[] = [];
let clock = START;

interface Instance {
  pool: pg.Pool;
  entities: EntityRegistry;
  satellites: SatelliteService;
}

/** One core process as far as satellites go: its own pool, registry and service, on the shared clock. */
function startInstance(url: string, connections = 4): Instance {
  const pool = createPool(url, logger, { max: connections });
  pools.push(pool);
  const entities = createEntityRegistry({ pool, logger });
  return { pool, entities, satellites: new SatelliteService({ pool, entities, now: () => clock, logger }) };
}

let a: Instance;

let url: string;

beforeAll(async () => {
  url = (await createTestDatabase()).url;
  a = startInstance(url);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

let created = 0;
function createSatellite(instance: Instance, options: { offlineThresholdMs?: number; region?: string } = {}): Promise<string> {
  created += 1;
  return instance.satellites.create({ name: `sat-${created}`, region: options.region ?? "eu-west", tokenHash: "hash", ...options });
}

async function countChanges(satelliteId: string): Promise<number> {
  const { rows } = await a.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes WHERE kind = 'satellite-connection' AND entity_id = $1", [
    satelliteId,
  ]);
  return rows[0]!.n;
}

/** Runs `work` and counts the transactions it committed on this test's pools (pg.Client.query spied). */
async function commitsDuring<T>(work: () => Promise<T>): Promise<{ result: T; commits: number }> {
  const spy = vi.spyOn(pg.Client.prototype, "query");
  try {
    const result = await work();
    return { result, commits: statementsSent(spy.mock.calls).filter((query) => textOf(query) === "COMMIT").length };
  } finally {
    spy.mockRestore();
  }
}

async function connect(satelliteId: string, sessionId = randomUUID()): Promise<string> {
  await a.satellites.markConnected({ satelliteId, sessionId });
  return sessionId;
}

describe("SatelliteService.markHeartbeatLostMany", () => {
  it("records heartbeat_lost in one transaction for exactly the connected satellites past their own threshold", async () => {
    const t0 = clock;
    const [expired1, expired2, patient, neverConnected] = await Promise.all([
      createSatellite(a),
      createSatellite(a),
      createSatellite(a, { offlineThresholdMs: 600_000 }),
      createSatellite(a),
    ]);
    for (const id of [expired1!, expired2!, patient!]) await connect(id);
    clock = t0 + OFFLINE_THRESHOLD_MS + 1;
    const lost = await a.satellites.markHeartbeatLostMany({ satelliteIds: [expired2!, patient!, expired1!, neverConnected!] });
    expect(lost.sort()).toEqual([expired1!, expired2!].sort());
    const { rows } = await a.pool.query<{ n: number }>(
      "SELECT count(DISTINCT xid)::int AS n FROM entity_changes WHERE entity_id = ANY($1) AND next ->> 'lastEvent' = 'heartbeat_lost'",
      [[expired1, expired2]],
    );
    expect(rows[0]!.n).toBe(1);
    expect(await a.satellites.markHeartbeatLostMany({ satelliteIds: [expired1!, expired2!] })).toEqual([]);
    expect(await countChanges(expired1!)).toBe(2);
    expect(await a.satellites.connection.get(patient!)).toMatchObject({ status: "online", lastEvent: "connected" });
  });
});

describe("SatelliteService lifecycle", () => {
  it("gives a satellite that never connected no state", async () => {
    const id = await createSatellite(a);
    expect(await a.satellites.connection.get(id)).toBeNull();
    expect(await a.satellites.getManyConnectionStates([id])).toEqual(new Map());
    expect(await countChanges(id)).toBe(0);
  });

  it("records the first connect as a create with lastEvent connected, by the satellite", async () => {
    const id = await createSatellite(a);
    const sessionId = randomUUID();
    const { prev, next, change } = await a.satellites.markConnected({ satelliteId: id, sessionId, version: "1.2.3", capabilities: ["http", "tcp"] });

    const state = { status: "online", name: `sat-${created}`, region: "eu-west", lastSeenAt: new Date(clock).toISOString(), lastEvent: "connected" };
    expect(prev).toBeNull();
    expect(next).toEqual(state);
    expect(change).toMatchObject({ kind: "satellite-connection", id, prev: null, next: state, actor: { type: "satellite", id } });
    expect(a.entities.deriveEvents(change!)).toEqual([SATELLITE_CONNECTED_EVENT]);
    const { lastEvent: _notInPayload, ...payloadFields } = state;
    const payload = a.entities.toPayload(change!);
    for (const trigger of satelliteTriggers) expect(trigger.payloadSchema.parse(payload)).toEqual({ satelliteId: id, ...payloadFields });

    const { rows } = await a.pool.query("SELECT session_id, version, capabilities, offline_at FROM satellites WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ session_id: sessionId, version: "1.2.3", capabilities: ["http", "tcp"], offline_at: new Date(clock + OFFLINE_THRESHOLD_MS) });
  });

  it("moves a satellite that is connected and online to its new session without recording a change", async () => {
    const id = await createSatellite(a);
    await connect(id);
    const connectedAt = clock;
    clock += OFFLINE_THRESHOLD_MS - 1; // still online: a reconnect after a core handed it over
    const sessionId = randomUUID();
    const { change } = await a.satellites.markConnected({ satelliteId: id, sessionId, instanceId: "another-core" });

    expect(change).toBeNull();
    expect(await countChanges(id)).toBe(1);
    const { rows } = await a.pool.query("SELECT session_id, connected_instance_id, last_heartbeat_at FROM satellites WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ session_id: sessionId, connected_instance_id: "another-core", last_heartbeat_at: new Date(connectedAt) });
  });

  it("records a connect of a satellite whose heartbeat expired as a connected edge, heartbeat now", async () => {
    const id = await createSatellite(a);
    await connect(id);
    clock += OFFLINE_THRESHOLD_MS + 1; // offline, though the monitor did not record the loss yet
    const { prev, next, change } = await a.satellites.markConnected({ satelliteId: id, sessionId: randomUUID() });

    expect(prev).toMatchObject({ status: "offline", lastEvent: "connected" });
    expect(next).toMatchObject({ status: "online", lastEvent: "connected", lastSeenAt: new Date(clock).toISOString() });
    expect(a.entities.deriveEvents(change!)).toEqual([SATELLITE_CONNECTED_EVENT]);
  });

  it("rejects a connect for a satellite that does not exist, recording nothing", async () => {
    const id = randomUUID();
    const failure = a.satellites.markConnected({ satelliteId: id, sessionId: randomUUID() });
    await expect(failure).rejects.toSatisfy((error) => isVantageError(error, "not_found"));
    expect(await countChanges(id)).toBe(0);
  });

  it("rejects ids that are not uuids as invalid input", async () => {
    await expect(a.satellites.markConnected({ satelliteId: "sat-1", sessionId: randomUUID() })).rejects.toSatisfy((error) =>
      isVantageError(error, "invalid_input"),
    );
    const id = await createSatellite(a);
    await expect(a.satellites.markDisconnected({ satelliteId: id, sessionId: "not-a-session" })).rejects.toSatisfy((error) =>
      isVantageError(error, "invalid_input"),
    );
  });

  it("reads ids that are not uuids as absent instead of failing the batch", async () => {
    const id = await createSatellite(a);
    await connect(id);
    const states = await a.satellites.getManyConnectionStates([id, "nope", id.toUpperCase()]);
    expect([...states.keys()]).toEqual([id]);
  });

  it("records a disconnect of the owning session: offline, no heartbeat", async () => {
    const id = await createSatellite(a);
    const sessionId = await connect(id);
    clock += 1_000;
    const { next, change } = await a.satellites.markDisconnected({ satelliteId: id, sessionId });
    expect(next).toMatchObject({ status: "offline", lastSeenAt: null, lastEvent: "disconnected" });
    expect(change?.changedFields).toEqual(["lastEvent", "lastSeenAt", "status"]);
    expect(change?.actor).toEqual({ type: "satellite", id });
    const { rows } = await a.pool.query("SELECT session_id, last_heartbeat_at, offline_at FROM satellites WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ session_id: null, last_heartbeat_at: null, offline_at: null });
  });

  it("records nothing for a stale disconnect from a session the satellite has left", async () => {
    const id = await createSatellite(a);
    const oldSession = await connect(id);
    const newSession = await connect(id);
    const before = await countChanges(id);

    const { prev, next, change } = await a.satellites.markDisconnected({ satelliteId: id, sessionId: oldSession });

    expect(change).toBeNull();
    expect(next).toEqual(prev);
    expect(next?.lastEvent).toBe("connected");
    expect(await countChanges(id)).toBe(before);
    const { rows } = await a.pool.query("SELECT session_id FROM satellites WHERE id = $1", [id]);
    expect(rows[0]?.session_id).toBe(newSession);
  });

  it("records a batch of connects in one transaction, each by its own satellite, a deleted one failing alone", async () => {
    const [fresh, online, gone] = [await createSatellite(a), await createSatellite(a), randomUUID()];
    await connect(online);
    const before = await countChanges(online);
    const transactions = await commitsDuring(() =>
      a.satellites.markConnectedMany([fresh, online, gone].map((satelliteId) => ({ satelliteId, sessionId: randomUUID(), version: `v-${satelliteId}` }))),
    );
    const [created, moved, missing] = transactions.result;

    expect(transactions.commits).toBe(1);
    expect(created).toMatchObject({ prev: null, next: { status: "online", lastEvent: "connected" }, change: { actor: { type: "satellite", id: fresh } } });
    expect(moved).toMatchObject({ change: null, next: { status: "online", lastEvent: "connected" } });
    expect(isVantageError(missing, "not_found")).toBe(true);
    expect(await countChanges(fresh)).toBe(1);
    expect(await countChanges(online)).toBe(before);
    const { rows } = await a.pool.query<{ id: string; version: string }>("SELECT id, version FROM satellites WHERE id = ANY($1::uuid[]) ORDER BY name", [
      [fresh, online],
    ]);
    expect(rows).toEqual([
      { id: fresh, version: `v-${fresh}` },
      { id: online, version: `v-${online}` },
    ]);
  });

  it("records a batch of reconnects in two round trips, the offline prevs' affected checks asked in the first", async () => {
    const instance = startInstance(url);
    const asked: string[][] = [];
    instance.satellites.observeOutages({
      affectedChecks: async (db, ids) => {
        asked.push([...ids]);
        const { rows } = await db.query<{ id: string }>("SELECT unnest($1::text[]) AS id -- affected checks", [ids]);
        return new Map(rows.map((row) => [row.id, { count: 1, names: [`check of ${row.id}`] }]));
      },
      wentOffline: async () => undefined,
    });
    const ids = [await createSatellite(a), await createSatellite(a), await createSatellite(a)];
    for (const satelliteId of ids) await a.satellites.markDisconnected({ satelliteId, sessionId: await connect(satelliteId) });
    asked.length = 0;
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const results = await instance.satellites.markConnectedMany(ids.map((satelliteId) => ({ satelliteId, sessionId: randomUUID(), tokenHash: "hash" })));
      for (const [i, result] of results.entries()) {
        expect(result).toMatchObject({
          prev: { status: "offline", lastEvent: "disconnected", affectedChecks: { count: 1, names: [`check of ${ids[i]}`] } },
          next: { status: "online", lastEvent: "connected" },
          change: { actor: { type: "satellite", id: ids[i] } },
        });
      }
      // Asked once, ahead, for the prevs; the nexts read online (their write was sent before them).
      expect(asked).toEqual([[...ids].sort()]);
      const trips = roundTripsOfTransaction(spy, (texts) => texts.includes("BEGIN"));
      expect(trips).toEqual([
        [
          "BEGIN",
          expect.stringContaining("pg_advisory_xact_lock"),
          expect.stringContaining("-- affected checks"),
          expect.stringContaining("FROM satellites"),
          expect.stringContaining("UPDATE satellites"),
          expect.stringContaining("FROM satellites"),
        ],
        [expect.stringContaining("INSERT INTO entity_changes"), "COMMIT"],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("records a batch of closes in two round trips, going offline sent with the outbox rows and COMMIT", async () => {
    const instance = startInstance(url);
    const asked: string[][] = [];
    const wentOffline: string[][] = [];
    instance.satellites.observeOutages({
      affectedChecks: async (db, ids) => {
        asked.push([...ids]);
        const { rows } = await db.query<{ id: string }>("SELECT unnest($1::text[]) AS id -- affected checks", [ids]);
        return new Map(rows.map((row) => [row.id, { count: 1, names: [`check of ${row.id}`] }]));
      },
      wentOffline: async (db, ids) => {
        wentOffline.push([...ids]);
        await db.query("SELECT unnest($1::text[]) -- went offline", [ids]);
      },
    });
    const ids = [await createSatellite(a), await createSatellite(a), await createSatellite(a)];
    const sessions = await Promise.all(ids.map((satelliteId) => connect(satelliteId)));
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const results = await instance.satellites.markDisconnectedMany(ids.map((satelliteId, i) => ({ satelliteId, sessionId: sessions[i]! })));
      for (const [i, result] of results.entries()) {
        expect(result).toMatchObject({
          prev: { status: "online", lastEvent: "connected" },
          next: { status: "offline", lastEvent: "disconnected", affectedChecks: { count: 1, names: [`check of ${ids[i]}`] } },
          change: { actor: { type: "satellite", id: ids[i] } },
        });
      }
      // Asked once, ahead, for the nexts (the prevs read online: their sockets were open).
      expect(asked).toEqual([[...ids].sort()]);
      expect(wentOffline.map((closed) => [...closed].sort())).toEqual([[...ids].sort()]);
      const trips = roundTripsOfTransaction(spy, (texts) => texts.includes("BEGIN"));
      expect(trips).toEqual([
        [
          "BEGIN",
          expect.stringContaining("pg_advisory_xact_lock"),
          expect.stringContaining("FROM satellites"),
          expect.stringContaining("UPDATE satellites"),
          expect.stringContaining("-- affected checks"),
          expect.stringContaining("FROM satellites"),
        ],
        [expect.stringContaining("INSERT INTO entity_changes"), expect.stringContaining("-- went offline"), "COMMIT"],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("records a close whose prev reads offline (its heartbeat expired, the socket open) in turns, with the right prev and going offline once", async () => {
    const instance = startInstance(url);
    const wentOffline: string[][] = [];
    instance.satellites.observeOutages({
      affectedChecks: async (_db, ids) => new Map(ids.map((id) => [id, { count: 2, names: [`check of ${id}`] }])),
      wentOffline: async (db, ids) => {
        wentOffline.push([...ids]);
        await db.query("SELECT 1 -- went offline");
      },
    });
    const [expired, fresh] = [await createSatellite(a), await createSatellite(a)];
    const expiredSession = await connect(expired);
    clock += OFFLINE_THRESHOLD_MS + 1;
    const freshSession = await connect(fresh);

    const results = await instance.satellites.markDisconnectedMany([
      { satelliteId: expired, sessionId: expiredSession },
      { satelliteId: fresh, sessionId: freshSession },
    ]);

    expect(results[0]).toMatchObject({
      prev: { status: "offline", lastEvent: "connected", affectedChecks: { count: 2 } },
      next: { status: "offline", lastEvent: "disconnected", affectedChecks: { count: 2 } },
      change: { changedFields: ["lastEvent", "lastSeenAt"] },
    });
    expect(results[1]).toMatchObject({ prev: { status: "online" }, next: { status: "offline", lastEvent: "disconnected" } });
    // The rolled-back attempt never got to its outbox rows: going offline was sent once, with the changes that committed.
    expect(wentOffline.map((closed) => [...closed].sort())).toEqual([[expired, fresh].sort()]);
    expect(await countChanges(expired)).toBe(2);
  });

  it("records a connect with a token hash only when it is the stored one, in the batch's one transaction, and tells a slow stored hash apart", async () => {
    const token = "vsat_right";
    const [right, wrong, legacy] = [
      await a.satellites.create({ name: `sat-${(created += 1)}`, region: "eu-north", tags: ["edge"], tokenHash: hashToken(token) }),
      await a.satellites.create({ name: `sat-${(created += 1)}`, region: "eu-west", tokenHash: hashToken(token) }),
      // Stored as tokens were before SHA-256: only the registry's verifyCredentials checks it.
      await a.satellites.create({ name: `sat-${(created += 1)}`, region: "eu-west", tokenHash: await hashSecret(token) }),
    ];
    const hashes = new Map([
      [right, hashToken(token)],
      [wrong, hashToken("vsat_wrong")],
      [legacy, hashToken(token)],
    ]);
    const transactions = await commitsDuring(() =>
      a.satellites.markConnectedMany(
        [right, wrong, legacy].map((satelliteId) => ({ satelliteId, sessionId: randomUUID(), tokenHash: hashes.get(satelliteId)! })),
      ),
    );
    const [connected, refused, slow] = transactions.result;

    expect(transactions.commits).toBe(1);
    expect(connected).toMatchObject({
      prev: null,
      next: { status: "online", lastEvent: "connected" },
      registration: { id: right, region: "eu-north", tags: ["edge"], offlineThresholdMs: null },
    });
    expect(refused).toEqual({ tokenRefused: "wrong_token" });
    expect(slow).toEqual({ tokenRefused: "slow_hash" });
    expect([await countChanges(right), await countChanges(wrong), await countChanges(legacy)]).toEqual([1, 0, 0]);
    const { rows } = await a.pool.query<{ id: string; session_id: string | null }>("SELECT id, session_id FROM satellites WHERE id = ANY($1::uuid[])", [
      [wrong, legacy],
    ]);
    expect(rows.map((row) => row.session_id)).toEqual([null, null]);
  });

  it("records only the owning session's close when a stale close of the same satellite is in its batch", async () => {
    const [moved, other] = [await createSatellite(a), await createSatellite(a)];
    const oldSession = await connect(moved);
    const newSession = await connect(moved);
    const otherSession = await connect(other);
    const before = await countChanges(moved);

    const outcomes = await a.satellites.markDisconnectedMany([
      { satelliteId: moved, sessionId: oldSession },
      { satelliteId: moved, sessionId: newSession },
      { satelliteId: other, sessionId: otherSession },
    ]);

    expect(outcomes.map((outcome) => ("change" in outcome ? (outcome.change?.next?.lastEvent ?? null) : outcome))).toEqual([
      null,
      "disconnected",
      "disconnected",
    ]);
    expect(await countChanges(moved)).toBe(before + 1);
    const { rows } = await a.pool.query("SELECT session_id, last_connection_event FROM satellites WHERE id = $1", [moved]);
    expect(rows[0]).toEqual({ session_id: null, last_connection_event: "disconnected" });
  });

  it("does not record heartbeat_lost up to the threshold, and records it once just past it", async () => {
    const id = await createSatellite(a);
    await connect(id);
    const connectedAt = new Date(clock).toISOString();

    clock += OFFLINE_THRESHOLD_MS;
    expect((await a.satellites.markHeartbeatLost({ satelliteId: id })).change).toBeNull();

    clock += 1;
    const { prev, next, change } = await a.satellites.markHeartbeatLost({ satelliteId: id });
    expect(prev).toMatchObject({ status: "offline", lastEvent: "connected" });
    expect(next).toMatchObject({ status: "offline", lastEvent: "heartbeat_lost", lastSeenAt: connectedAt });
    expect(change?.changedFields).toEqual(["lastEvent"]);
    expect(change?.actor).toEqual(SYSTEM_ACTOR);
    expect(a.entities.deriveEvents(change!)).toEqual([SATELLITE_HEARTBEAT_LOST_EVENT]);

    clock += 5_000;
    expect((await a.satellites.markHeartbeatLost({ satelliteId: id })).change).toBeNull();
    expect(await countChanges(id)).toBe(2);
  });

  it("records heartbeat_lost exactly once when two instances with their own pools race for it", async () => {
    const b = startInstance(url);
    const id = await createSatellite(a);
    await connect(id);
    clock += OFFLINE_THRESHOLD_MS + 1;

    const results = await Promise.all([
      a.satellites.markHeartbeatLost({ satelliteId: id }),
      b.satellites.markHeartbeatLost({ satelliteId: id }),
      a.satellites.markHeartbeatLost({ satelliteId: id }),
      b.satellites.markHeartbeatLost({ satelliteId: id }),
    ]);

    expect(results.filter((result) => result.change !== null)).toHaveLength(1);
    const { rows } = await a.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM entity_changes WHERE entity_id = $1 AND next ->> 'lastEvent' = 'heartbeat_lost'",
      [id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it("applies a satellite's own threshold to heartbeat_lost, not the default", async () => {
    const id = await createSatellite(a, { offlineThresholdMs: 120_000 });
    await connect(id);
    clock += OFFLINE_THRESHOLD_MS + 1;
    expect((await a.satellites.markHeartbeatLost({ satelliteId: id })).change).toBeNull();
    expect((await a.satellites.connection.get(id))?.status).toBe("online");
    clock += 120_000 - OFFLINE_THRESHOLD_MS;
    expect((await a.satellites.markHeartbeatLost({ satelliteId: id })).change?.next).toMatchObject({ lastEvent: "heartbeat_lost" });
  });

  it("records recovery after heartbeat_lost as connected, online again", async () => {
    const id = await createSatellite(a);
    const sessionId = await connect(id);
    clock += OFFLINE_THRESHOLD_MS + 1;
    await a.satellites.markHeartbeatLost({ satelliteId: id });
    clock += 2_000;

    expect((await a.satellites.markRecovered({ satelliteId: id, sessionId: randomUUID() })).change).toBeNull();
    const { next, change } = await a.satellites.markRecovered({ satelliteId: id, sessionId });
    expect(next).toMatchObject({ status: "online", lastEvent: "connected", lastSeenAt: new Date(clock).toISOString() });
    expect(change?.prev).toMatchObject({ lastEvent: "heartbeat_lost" });
    expect(a.entities.deriveEvents(change!)).toEqual([SATELLITE_CONNECTED_EVENT]);

    const { rows } = await a.pool.query("SELECT offline_at FROM satellites WHERE id = $1", [id]);
    expect(rows[0]?.offline_at).toEqual(new Date(clock + OFFLINE_THRESHOLD_MS));
  });

  it("records no recovery for a satellite that is connected or disconnected", async () => {
    const id = await createSatellite(a);
    const sessionId = await connect(id);
    expect((await a.satellites.markRecovered({ satelliteId: id })).change).toBeNull();
    await a.satellites.markDisconnected({ satelliteId: id, sessionId });
    expect((await a.satellites.markRecovered({ satelliteId: id })).change).toBeNull();
    expect(await countChanges(id)).toBe(2);
  });

  it("refuses a second satellite with the same name as a conflict", async () => {
    await a.satellites.create({ name: "unique-name", region: "eu", tokenHash: "h" });
    await expect(a.satellites.create({ name: "unique-name", region: "us", tokenHash: "h" })).rejects.toSatisfy((error) => isVantageError(error, "conflict"));
  });

  it("refuses a threshold that is not a positive whole number of milliseconds", async () => {
    for (const offlineThresholdMs of [0, -1, 1.5]) {
      await expect(a.satellites.create({ name: `bad-${offlineThresholdMs}`, region: "eu", tokenHash: "h", offlineThresholdMs })).rejects.toSatisfy((error) =>
        isVantageError(error, "invalid_input"),
      );
    }
  });
});

describe("a lone satellite's edges", () => {
  it("are planned once per connection, not again at every connect and close", async () => {
    // One connection, so every edge's statements are prepared on it and counted in its pg_prepared_statements.
    const instance = startInstance(url, 1);
    const id = await createSatellite(instance);
    for (let edge = 0; edge < 8; edge++) {
      const sessionId = randomUUID();
      await instance.satellites.markConnected({ satelliteId: id, sessionId });
      await instance.satellites.markDisconnected({ satelliteId: id, sessionId });
    }

    const { rows } = await instance.pool.query<{ statement: string; custom_plans: string }>(
      "SELECT statement, custom_plans::text FROM pg_prepared_statements WHERE statement LIKE '%FROM satellites%' OR statement LIKE '%UPDATE satellites%'",
    );
    // The facts read (prev and next), the connect and the close.
    expect(rows.length).toBeGreaterThanOrEqual(3);
    // PostgreSQL plans a prepared statement's first five runs for their values, then keeps a
    // generic plan unless it looks dearer: one over arrays is planned afresh at every call.
    const plannedAtEveryCall = rows.filter((row) => Number(row.custom_plans) > 5).map((row) => row.statement.replace(/\s+/g, " ").trim());
    expect(plannedAtEveryCall).toEqual([]);
  });
});

describe("SatelliteService.findExpired", () => {
  let fleet: Instance;

  beforeAll(async () => {
    // A database of its own: "exactly the expired rows" must not see other tests' satellites.
    fleet = startInstance((await createTestDatabase()).url);
  });

  it("returns exactly the connected satellites past their own threshold, longest expired first", async () => {
    const { satellites } = fleet;
    const t0 = clock;
    const make = (offlineThresholdMs?: number) => createSatellite(fleet, offlineThresholdMs ? { offlineThresholdMs } : {});
    const [expired, fresh, lost, disconnected, , patient, impatient] = await Promise.all([make(), make(), make(), make(), make(), make(600_000), make(10_000)]);
    for (const id of [expired, lost, disconnected, patient, impatient]) await satellites.markConnected({ satelliteId: id!, sessionId: randomUUID() });
    clock = t0 + OFFLINE_THRESHOLD_MS + 1;
    await satellites.markHeartbeatLost({ satelliteId: lost! });
    const { rows } = await fleet.pool.query<{ session_id: string }>("SELECT session_id FROM satellites WHERE id = $1", [disconnected]);
    await satellites.markDisconnected({ satelliteId: disconnected!, sessionId: rows[0]!.session_id });
    await satellites.markConnected({ satelliteId: fresh!, sessionId: randomUUID() });

    expect(await satellites.findExpired({ limit: 100 })).toEqual([impatient, expired]);
    expect(await satellites.findExpired({ limit: 1 })).toEqual([impatient]);
  });

  it("serves the monitor's query from the partial index, reading only the expired entries", async () => {
    // A fleet of 10 000 connected satellites, 3 of them expired at the clock's now.
    const now = new Date(clock);
    await fleet.pool.query(
      `INSERT INTO satellites (name, region, token_hash, last_connection_event, last_heartbeat_at, offline_at)
       SELECT 'fleet-' || g, 'eu', 'h', 'connected', $1::timestamptz + heartbeat_age, $1::timestamptz + heartbeat_age + interval '45 seconds'
       FROM generate_series(1, 10000) AS g,
            LATERAL (SELECT CASE WHEN g <= 3 THEN interval '-1 hour' ELSE interval '-1 second' * (g % 40) END AS heartbeat_age) AS age`,
      [now],
    );
    await fleet.pool.query("ANALYZE satellites");

    const query = vi.spyOn(fleet.pool, "query");
    const expired = await fleet.satellites.findExpired({ limit: 1000 });
    const [sql, params] = query.mock.calls[0] as unknown as [string, unknown[]];
    query.mockRestore();
    expect(expired.length).toBeGreaterThanOrEqual(3);

    const { rows } = await fleet.pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const nodes = flatten(rows[0]!["QUERY PLAN"][0]!.Plan);
    const scan = nodes.find((node) => node["Index Name"] === "satellites_expiring");
    expect(scan, JSON.stringify(rows[0])).toBeDefined();
    expect(nodes.some((node) => node["Node Type"] === "Seq Scan")).toBe(false);
    // The expired entries, plus at most the few dead index entries earlier tests' updates
    // left behind (VACUUM cannot always clear them while other databases' work runs):
    // nowhere near the 10 000 connected satellites.
    expect(scan!["Actual Rows"]).toBeGreaterThanOrEqual(expired.length);
    expect(scan!["Actual Rows"]).toBeLessThan(expired.length + 20);
    expect(scan!["Rows Removed by Filter"] ?? 0).toBe(0);
  });
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

describe("connection edges (the gateway's batches)", () => {
  /** markDisconnectedMany as PostgreSQL answers it when it picked the batch as a deadlock's victim `failures` times. */
  function recorderFailing(failures: number, sqlstate: string) {
    let calls = 0;
    return {
      calls: () => calls,
      recorder: {
        markConnectedMany: a.satellites.markConnectedMany.bind(a.satellites),
        markDisconnectedMany: async (inputs: Parameters<SatelliteService["markDisconnectedMany"]>[0]) => {
          calls += 1;
          if (calls <= failures) await a.pool.query(`DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '${sqlstate}'; END $$`);
          return a.satellites.markDisconnectedMany(inputs);
        },
      },
    };
  }

  it("records a close whose batch was a deadlock's victim, by sending the batch again", async () => {
    const id = await createSatellite(a);
    const sessionId = await connect(id);
    const failing = recorderFailing(1, "40P01");
    const edges = createConnectionEdges(failing.recorder, { windowMs: 0 });

    const outcome = await edges.disconnected({ satelliteId: id, sessionId });

    expect("change" in outcome ? outcome.change?.next?.lastEvent : outcome).toBe("disconnected");
    expect(failing.calls()).toBe(2);
    const { rows } = await a.pool.query("SELECT last_connection_event FROM satellites WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ last_connection_event: "disconnected" });
  });

  it("gives up after a few deadlocks, and does not retry other errors", async () => {
    const id = await createSatellite(a);
    const sessionId = await connect(id);
    const deadlocked = recorderFailing(EDGE_BATCH_TRIES, "40P01");
    await expect(createConnectionEdges(deadlocked.recorder, { windowMs: 0 }).disconnected({ satelliteId: id, sessionId })).rejects.toMatchObject({
      code: "40P01",
    });
    expect(deadlocked.calls()).toBe(EDGE_BATCH_TRIES);

    const other = recorderFailing(1, "23505");
    await expect(createConnectionEdges(other.recorder, { windowMs: 0 }).disconnected({ satelliteId: id, sessionId })).rejects.toMatchObject({
      code: "23505",
    });
    expect(other.calls()).toBe(1);
    const { rows } = await a.pool.query("SELECT last_connection_event FROM satellites WHERE id = $1", [id]);
    expect(rows[0]).toEqual({ last_connection_event: "connected" });
  });
});
