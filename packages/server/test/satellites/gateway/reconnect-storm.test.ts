// A reconnect storm through the real gateway: satellites connecting at once are welcomed,
// each recorded once, in batched transactions; a failed batch and a stale close stay harmless.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { EdgeRecorder } from "../../../src/satellites/gateway/connection-edges.ts";
import { createTestDatabase } from "../../support/database.ts";
import { statementsSent } from "../../support/query-text.ts";
import { connectFakeSatellite, openFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

const STORM = 100;

let core: SatelliteCore;
/**
 * Seams on the real service: a test may fail the connect batches that carry these satellites'
 * next connects (however a loaded host splits their hellos into batches), or hold close batches.
 */
const failConnectsOf = new Set<string>();
let closesHeld: Promise<void> | undefined;
/** Every close batch sent, settled once recorded; `closeBatchSent` wakes a test waiting for one. */
const closeBatches: Array<Promise<unknown>> = [];
let closeBatchSent: (() => void) | undefined;

const recorder: EdgeRecorder = {
  markConnectedMany: async (inputs) => {
    const failing = inputs.filter((input) => failConnectsOf.delete(input.satelliteId));
    if (failing.length > 0) throw new Error("database unavailable");
    return core.satellites.markConnectedMany(inputs);
  },
  markDisconnectedMany: (inputs) => {
    const held = closesHeld;
    const batch = (async () => {
      await held;
      return core.satellites.markDisconnectedMany(inputs);
    })();
    closeBatches.push(batch);
    closeBatchSent?.();
    return batch;
  },
};

/** Resolves once `count` close batches were sent in all. */
function closeBatchesSent(count: number): Promise<void> {
  return new Promise((resolve) => {
    closeBatchSent = () => closeBatches.length >= count && resolve();
    closeBatchSent();
  });
}

let databaseUrl: string;

beforeAll(async () => {
  const db = await createTestDatabase();
  databaseUrl = db.url;
  core = await startSatelliteCore(db.url, "storm", {
    monitor: false,
    // Heartbeats are written only when a test flushes them: a periodic flush landing inside a
    // reconnect's transaction would change lastSeenAt there and record a change of its own.
    startHeartbeats: false,
    // One client address connects the whole storm here (so neither its cap of sockets awaiting
    // their welcome nor its failed-login limit, which counts hellos in flight, may stop it: over
    // that limit a hello is checked by a lookup of its own); a wide window makes the batches
    // independent of how fast this machine runs the hellos.
    gateway: {
      satellites: recorder,
      maxUnauthenticatedPerAddress: 10 * STORM,
      authFailureLimit: { max: 10 * STORM, windowMs: 60_000 },
      edgeBatching: { windowMs: 50 },
    },
    registry: { credentialsBatchWindowMs: 50 },
  });
});

afterAll(async () => {
  await core?.stop();
});

/**
 * Transactions that recorded entity changes while `work` ran, on any pool of this process, and
 * the queries that looked up hellos' credentials.
 */
async function recordingTransactionsDuring<T>(work: () => Promise<T>): Promise<{ result: T; transactions: number; credentialLookups: number }> {
  const spy = vi.spyOn(pg.Client.prototype, "query");
  try {
    const result = await work();
    const sent = statementsSent(spy.mock.calls);
    const named = (name: string) => sent.filter((query) => (query as { name?: string } | undefined)?.name === name).length;
    const transactions = named("vantage_record_changes");
    const credentialLookups = named("vantage_satellite_credentials");
    return { result, transactions, credentialLookups };
  } finally {
    spy.mockRestore();
  }
}

describe("a reconnect storm", () => {
  it(`welcomes ${STORM} satellites connecting at once, records each connected exactly once, in a few transactions`, async () => {
    const fleet = await Promise.all(Array.from({ length: STORM }, () => core.createSatellite()));
    const {
      result: connected,
      transactions,
      credentialLookups,
    } = await recordingTransactionsDuring(() => Promise.all(fleet.map((credentials) => connectFakeSatellite(core.url, credentials))));

    expect(transactions).toBeLessThanOrEqual(STORM / 4);
    // Each hello's token is checked by its connected edge's transaction: no lookup of its own.
    expect(credentialLookups).toBe(0);
    const ids = fleet.map((credentials) => credentials.satelliteId);
    const { rows } = await core.pool.query<{ entity_id: string; n: number; actors: string[] }>(
      `SELECT entity_id, count(*)::int AS n, array_agg(DISTINCT actor ->> 'id') AS actors FROM entity_changes
       WHERE kind = 'satellite-connection' AND entity_id = ANY($1::text[]) AND next ->> 'lastEvent' = 'connected' GROUP BY entity_id`,
      [ids],
    );
    expect(rows).toHaveLength(STORM);
    for (const row of rows) expect(row).toEqual({ entity_id: row.entity_id, n: 1, actors: [row.entity_id] });
    // Each welcome names the session its committed connected edge wrote.
    const { rows: sessions } = await core.pool.query<{ id: string; session_id: string }>("SELECT id, session_id FROM satellites WHERE id = ANY($1::uuid[])", [
      ids,
    ]);
    const sessionOf = new Map(sessions.map((row) => [row.id, row.session_id]));
    connected.forEach(({ welcome }, i) => expect(sessionOf.get(ids[i]!)).toBe(welcome.sessionId));
    await Promise.all(connected.map(({ satellite }) => satellite.close()));
  });

  it("fails every hello of a batch that could not be recorded with try-again-later, and welcomes them on their retry", async () => {
    const fleet = await Promise.all(Array.from({ length: 5 }, () => core.createSatellite()));
    for (const credentials of fleet) failConnectsOf.add(credentials.satelliteId);
    const first = await Promise.all(
      fleet.map(async (credentials) => {
        const satellite = await openFakeSatellite(core.url, { credentials });
        satellite.hello();
        return satellite.closed;
      }),
    );
    expect(first.map(({ code }) => code)).toEqual(fleet.map(() => 1013));

    const retried = await Promise.all(fleet.map((credentials) => connectFakeSatellite(core.url, credentials)));
    const states = await core.satellites.connection.getMany(fleet.map((credentials) => credentials.satelliteId));
    expect([...states.values()].map((state) => state.lastEvent)).toEqual(fleet.map(() => "connected"));
    await Promise.all(retried.map(({ satellite }) => satellite.close()));
  });

  it("buffers a hello as a heartbeat only when its connect kept the last heartbeat (the satellite was connected and online)", async () => {
    await core.heartbeats.flush(); // what earlier tests left in the buffer
    const credentials = await core.createSatellite();
    const { satellite: first } = await connectFakeSatellite(core.url, credentials);
    // Its connect wrote the heartbeat: nothing of it is left to write.
    expect(await core.heartbeats.flush()).toEqual({ size: 0, recovered: [] });
    const { rows: written } = await core.pool.query<{ at: Date }>("SELECT last_heartbeat_at AS at FROM satellites WHERE id = $1", [credentials.satelliteId]);

    // A second socket while connected and online (as after a handover) keeps the last heartbeat: its hello is a new one.
    const { satellite: second } = await connectFakeSatellite(core.url, credentials);
    await first.closed;
    expect(await core.heartbeats.flush()).toEqual({ size: 1, recovered: [] });
    const { rows: refreshed } = await core.pool.query<{ at: Date }>("SELECT last_heartbeat_at AS at FROM satellites WHERE id = $1", [credentials.satelliteId]);
    expect(refreshed[0]!.at.getTime()).toBeGreaterThanOrEqual(written[0]!.at.getTime());
    await second.close();
  });

  it("records nothing for a close that reaches the database after its satellite reconnected", async () => {
    const credentials = await core.createSatellite();
    const { satellite: before } = await connectFakeSatellite(core.url, credentials);
    // Its hello counted as a heartbeat: written now, so no flush lands inside the reconnect's transaction.
    await core.heartbeats.flush();
    let release!: () => void;
    closesHeld = new Promise((resolve) => (release = resolve));
    try {
      const sent = closeBatches.length;
      await before.terminate();
      await closeBatchesSent(sent + 1); // the stale close's batch is on its way, held before its transaction
      const { satellite: after } = await connectFakeSatellite(core.url, credentials);
      closesHeld = undefined;
      release();
      await after.close();
      await closeBatchesSent(sent + 2);
      await Promise.all(closeBatches);

      // The reconnect while connected and online recorded nothing, the stale close nothing, the current close its edge.
      const history = await core.satellites.connection.history(credentials.satelliteId);
      expect(history.map((change) => change.next?.lastEvent)).toEqual(["disconnected", "connected"]);
      const { rows } = await core.pool.query("SELECT session_id, last_connection_event FROM satellites WHERE id = $1", [credentials.satelliteId]);
      expect(rows[0]).toEqual({ session_id: null, last_connection_event: "disconnected" });
    } finally {
      closesHeld = undefined;
      release();
    }
  });

  it("does not refuse sockets from an address whose earlier satellites proved their tokens and wait for their connect batch", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const entered: string[] = [];
    let bothEntered!: () => void;
    const waiting = new Promise<void>((resolve) => (bothEntered = resolve));
    const nat = await startSatelliteCore(databaseUrl, "storm-nat", {
      monitor: false,
      gateway: {
        maxUnauthenticatedPerAddress: 2,
        // Hellos checked by the registry first (as every hello over the failed-login limit is):
        // one whose token is checked by its connected edge holds its place under the cap until
        // that commits, and at most authFailureLimit.max (10) of them are in flight per address,
        // well under the default cap of 32.
        checkTokensInConnect: false,
        // Two connect batches in flight: each early satellite's edge is held in its own batch
        // or both in one, and the test waits until both are held either way.
        edgeBatching: { lanes: 2 },
        satellites: {
          markConnectedMany: async (inputs) => {
            entered.push(...inputs.map((input) => input.satelliteId));
            if (entered.length === 2) bothEntered();
            await held;
            return nat.satellites.markConnectedMany(inputs);
          },
          markDisconnectedMany: (inputs) => nat.satellites.markDisconnectedMany(inputs),
        },
      },
    });
    try {
      const fleet = await Promise.all(Array.from({ length: 3 }, () => nat.createSatellite()));
      const early = fleet.slice(0, 2).map((credentials) => connectFakeSatellite(nat.url, credentials));
      await waiting; // both authenticated, their connected edges held
      const late = connectFakeSatellite(nat.url, fleet[2]!);
      release();
      const welcomed = await Promise.all([...early, late]);
      expect(welcomed.map(({ welcome }) => welcome.type)).toEqual(["welcome", "welcome", "welcome"]);
      await Promise.all(welcomed.map(({ satellite }) => satellite.close()));
    } finally {
      release();
      await nat.stop();
    }
  });
});
