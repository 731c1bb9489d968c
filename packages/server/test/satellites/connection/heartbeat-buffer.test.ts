// Heartbeats written many to one statement, only for the owning session, recovering lost satellites and surviving a failed flush.
import { randomUUID } from "node:crypto";
import { OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntityRegistry } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { createHeartbeatBuffer, type HeartbeatBuffer } from "../../../src/satellites/connection/heartbeat-buffer.ts";
import { SatelliteService } from "../../../src/satellites/connection/service.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

const logger = silentLogger();
let clock = Date.parse("2026-03-01T08:00:00.000Z");
let pool: pg.Pool;
let service: SatelliteService;
/** Every statement the buffer sends, as it sends them. */
const statements: Array<{ text: string; values: unknown[] }> = [];
let failNext = false;
let buffer: HeartbeatBuffer;

beforeAll(async () => {
  pool = createPool((await createTestDatabase()).url, logger, { max: 4 });
  const entities = createEntityRegistry({ pool, logger });
  service = new SatelliteService({ pool, entities, now: () => clock, logger });
  const counting = {
    query: (text: string, values: unknown[]) => {
      statements.push({ text, values });
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("connection reset"));
      }
      return pool.query(text, values);
    },
  } as unknown as pg.Pool;
  buffer = createHeartbeatBuffer({ pool: counting, satellites: service, logger, now: () => clock });
});

afterAll(async () => {
  await buffer?.stop();
  await pool?.end();
});

let created = 0;
async function connectedSatellite(offlineThresholdMs?: number): Promise<{ id: string; session: string }> {
  created += 1;
  const id = await service.create({ name: `hb-${created}`, region: "eu", tokenHash: "unused", offlineThresholdMs });
  const session = randomUUID();
  await service.markConnected({ satelliteId: id, sessionId: session });
  return { id, session };
}

async function rows(ids: string[]) {
  const result = await pool.query<{ id: string; last_heartbeat_at: Date | null; offline_at: Date | null; last_connection_event: string }>(
    "SELECT id, last_heartbeat_at, offline_at, last_connection_event FROM satellites WHERE id = ANY($1::uuid[])",
    [ids],
  );
  return new Map(result.rows.map((row) => [row.id, row]));
}

describe("the heartbeat buffer", () => {
  it("writes the heartbeats of many satellites in one statement, keeping offline_at at heartbeat + each one's threshold", async () => {
    const fleet = await Promise.all(Array.from({ length: 200 }, (_, i) => connectedSatellite(i % 2 === 0 ? undefined : 90_000)));
    clock += 5_000;
    for (const { id, session } of fleet) buffer.record(id, session);
    clock += 1_000;
    for (const { id, session } of fleet.slice(0, 50)) buffer.record(id, session); // a newer heartbeat replaces the older
    statements.length = 0;

    const flush = await buffer.flush();

    expect(flush).toEqual({ size: 200, recovered: [] });
    expect(statements).toHaveLength(1);
    expect(statements[0]!.text).toContain("UPDATE satellites");
    const written = await rows(fleet.map((s) => s.id));
    fleet.forEach(({ id }, i) => {
      const at = clock - (i < 50 ? 0 : 1_000);
      const threshold = i % 2 === 0 ? OFFLINE_THRESHOLD_MS : 90_000;
      expect(written.get(id)).toMatchObject({ last_heartbeat_at: new Date(at), offline_at: new Date(at + threshold), last_connection_event: "connected" });
    });
  });

  it("sends nothing when no heartbeat arrived", async () => {
    statements.length = 0;
    expect(await buffer.flush()).toEqual({ size: 0, recovered: [] });
    expect(statements).toHaveLength(0);
  });

  it("ignores a heartbeat of a session that no longer owns the satellite, and of a disconnected one", async () => {
    const moved = await connectedSatellite();
    const newSession = randomUUID();
    await service.markConnected({ satelliteId: moved.id, sessionId: newSession });
    const gone = await connectedSatellite();
    await service.markDisconnected({ satelliteId: gone.id, sessionId: gone.session });
    const before = await rows([moved.id, gone.id]);

    clock += 1_000;
    buffer.record(moved.id, moved.session);
    buffer.record(gone.id, gone.session);
    await buffer.flush();

    expect(await rows([moved.id, gone.id])).toEqual(before);
  });

  it("recovers a satellite whose heartbeat was declared lost: one connected edge, reported by the flush", async () => {
    const lost = await connectedSatellite();
    clock += OFFLINE_THRESHOLD_MS + 1;
    expect((await service.markHeartbeatLost({ satelliteId: lost.id })).change).not.toBeNull();

    buffer.record(lost.id, lost.session);
    expect(await buffer.flush()).toEqual({ size: 1, recovered: [lost.id] });
    expect(await service.connection.get(lost.id)).toMatchObject({ status: "online", lastEvent: "connected", lastSeenAt: new Date(clock).toISOString() });
    const history = await service.connection.history(lost.id);
    expect(history.map((change) => change.next?.lastEvent)).toEqual(["connected", "heartbeat_lost", "connected"]);

    // A heartbeat of another session does not recover it.
    clock += OFFLINE_THRESHOLD_MS + 1;
    await service.markHeartbeatLost({ satelliteId: lost.id });
    buffer.record(lost.id, randomUUID());
    expect(await buffer.flush()).toEqual({ size: 1, recovered: [] });
  });

  it("keeps the heartbeats of a failed flush for the next one, unless a newer one arrived", async () => {
    const [first, second] = [await connectedSatellite(), await connectedSatellite()];
    clock += 1_000;
    buffer.record(first.id, first.session);
    buffer.record(second.id, second.session);
    failNext = true;
    await expect(buffer.flush()).rejects.toThrow("connection reset");
    clock += 1_000;
    buffer.record(second.id, second.session);

    expect((await buffer.flush()).size).toBe(2);
    const written = await rows([first.id, second.id]);
    expect(written.get(first.id)?.last_heartbeat_at).toEqual(new Date(clock - 1_000));
    expect(written.get(second.id)?.last_heartbeat_at).toEqual(new Date(clock));
  });
});

describe("heartbeats through the gateway", () => {
  let core: SatelliteCore;

  beforeAll(async () => {
    const url = (await createTestDatabase()).url;
    // Credentials are not under test here: no token check for a fleet of 40, all from one
    // address at once, so above the gateway's cap of sockets awaiting their welcome per address.
    core = await startSatelliteCore(url, "heartbeat-fleet", {
      monitor: false,
      startHeartbeats: false,
      gateway: { authenticate: async (id) => ({ id, name: id, region: "eu", tags: [], offlineThresholdMs: null }), maxUnauthenticatedPerAddress: 64 },
    });
  });

  afterAll(async () => {
    await core?.stop();
  });

  it("never writes per heartbeat: the heartbeats of 40 sockets become one UPDATE", async () => {
    const fleet = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const satelliteId = await core.satellites.create({ name: `fleet-${i}`, region: "eu", tokenHash: "unused" });
        return (await connectFakeSatellite(core.url, { satelliteId, token: "unused" })).satellite;
      }),
    );
    await core.heartbeats.flush();
    const { rows: before } = await core.pool.query<{ oldest: Date }>("SELECT max(last_heartbeat_at) AS oldest FROM satellites");

    const sent: string[] = [];
    const query = core.pool.query.bind(core.pool);
    core.pool.query = ((text: unknown, ...rest: unknown[]) => {
      if (typeof text === "string" && text.includes("UPDATE satellites")) sent.push(text);
      return (query as (...args: unknown[]) => unknown)(text, ...rest);
    }) as typeof core.pool.query;
    try {
      for (let round = 0; round < 3; round++) for (const satellite of fleet) satellite.heartbeat();
      // A socket's frames are handled in order: its answer to a later bad frame means its heartbeats were read.
      for (const satellite of fleet) satellite.sendRaw("sync");
      await Promise.all(fleet.map((satellite) => satellite.next("error")));
      const received = await core.metrics.getSingleMetric("vantage_satellite_heartbeats_received_total")!.get();
      expect(received.values[0]!.value).toBe(120);
      expect(sent).toHaveLength(0);

      expect((await core.heartbeats.flush()).size).toBe(40);
      expect(sent).toHaveLength(1);
    } finally {
      core.pool.query = query;
    }
    const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM satellites WHERE last_heartbeat_at > $1", [before[0]!.oldest]);
    expect(rows[0]!.n).toBe(40);
    // One flush of 40: the connects wrote their heartbeats, so the flush after them had none to write.
    const exposition = await core.metrics.metrics();
    expect(exposition).toMatch(/^vantage_satellite_heartbeat_flush_size_count 1$/m);
    expect(exposition).toMatch(/^vantage_satellite_heartbeat_flush_size_sum 40$/m);
    await Promise.all(fleet.map((satellite) => satellite.close()));
  });
});
