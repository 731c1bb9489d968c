// The check deadline monitor: a location gone silent turns unobservable without a result, once,
// however many sweeps run; a satellite whose heartbeat is lost (or whose socket closes) makes the
// checks it observes due, so they go unknown — not unhealthy — and its offline state names them.
import { randomUUID } from "node:crypto";
import type { CheckHealthOptionsInput } from "@vantage/protocol";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTriggerRegistry } from "../../../src/automations/index.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "../../../src/checks/health/check-health.ts";
import { createCheckDeadlineMonitor, satelliteOutageObserver } from "../../../src/checks/health/deadline-monitor.ts";
import type { CheckResultInput } from "../../../src/checks/index.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import type { DeadlineMonitor } from "../../../src/cluster/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { CheckStore } from "../../../src/checks/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { SatelliteService } from "../../../src/satellites/index.ts";
import { satelliteChangeToPayload } from "../../../src/satellites/connection/entity.ts";
import { satelliteTriggerPayloadSchema } from "../../../src/satellites/connection/triggers.ts";
import { ingestContext, makeResult } from "../../support/checks/check-results.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { statementsSent, textOf } from "../../support/query-text.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";

let core: TestInstance;
let pool: pg.Pool;
let health: CheckHealth;
let ingest: ResultIngest;
let monitor: DeadlineMonitor;
let satellites: SatelliteService;
let clock: number;

beforeEach(async () => {
  clock = Date.now();
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "check-deadlines");
  pool = core.pool;
  health = createCheckHealth({ pool, entities: core.entities, triggers: createTriggerRegistry(), now: () => clock });
  ingest = createResultIngest({
    pool,
    logger: silentLogger(),
    context: ingestContext(pool, { now: () => clock }),
    inTransaction: evaluateHealthOnIngest(health),
  });
  monitor = createCheckDeadlineMonitor({ pool, health, logger: silentLogger(), now: () => clock });
  satellites = new SatelliteService({ pool, entities: core.entities, now: () => clock });
  satellites.observeOutages(satelliteOutageObserver);
});

afterEach(async () => {
  await monitor?.stop();
  await ingest?.stop();
  await core?.stop();
});

const newCheck = (health: CheckHealthOptionsInput = {}, fields: Record<string, unknown> = {}) => insertCheck(pool, { health, ...fields });
const up = (checkId: string, location = "core"): CheckResultInput => makeResult({ checkId, location, at: clock, status: "up" });
const down = (checkId: string, location = "core"): CheckResultInput => makeResult({ checkId, location, at: clock, status: "down" });

async function connectedSatellite(name: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO satellites (name, region, token_hash, last_heartbeat_at, offline_at, last_connection_event, session_id)
     VALUES ($1, 'eu', 'unused', $2::timestamptz, $2::timestamptz + interval '45 seconds', 'connected', $3) RETURNING id`,
    [name, new Date(clock).toISOString(), randomUUID()],
  );
  return rows[0]!.id;
}

const eventsOf = async (checkId: string) => (await health.handle.history(checkId)).reverse().flatMap((change) => core.entities.deriveEvents(change));

describe("the check deadline monitor", () => {
  it("turns a silent location unobservable at its deadline without a result, once however many sweeps run", async () => {
    // interval 10 s + timeout 1 s + grace 5 s: silent for longer than 16 s is stale.
    const checkId = await newCheck({ graceSeconds: 5 }, { intervalSeconds: 10, timeoutMs: 1_000 });
    await ingest.submit(up(checkId));
    clock += 16_000;
    // At the deadline itself the location still observes: evaluated, nothing recorded.
    await monitor.sweep();
    expect((await health.handle.get(checkId))?.status).toBe("healthy");
    expect(await health.handle.history(checkId)).toHaveLength(1);

    clock += 1;
    expect(await monitor.sweep()).toEqual([checkId]);
    await Promise.all([monitor.sweep(), monitor.sweep()]);
    const state = await health.handle.get(checkId);
    expect(state).toMatchObject({ status: "unknown", locations: { core: { status: "unobservable" } } });
    expect(state?.reason).toMatch(/^no location can observe the check: core \(no result since /);
    const history = await health.handle.history(checkId);
    expect(history).toHaveLength(2);
    expect(history[0]!.cause).toEqual({ type: "check.deadline", id: checkId });
    expect(await eventsOf(checkId)).toEqual(["check.health_changed", "check.unknown"]);
  });

  it("does nothing for a check whose results keep coming", async () => {
    const checkId = await newCheck({ graceSeconds: 0 }, { intervalSeconds: 10, timeoutMs: 1_000 });
    for (let run = 0; run < 4; run += 1) {
      await ingest.submit(up(checkId));
      clock += 10_000;
      await monitor.sweep();
    }
    expect(await health.handle.history(checkId)).toHaveLength(1);
    expect((await health.handle.get(checkId))?.status).toBe("healthy");
  });

  it("finds due checks as the active monitor, on its own", async () => {
    const checkId = await newCheck({ graceSeconds: 0 }, { intervalSeconds: 10, timeoutMs: 1_000 });
    await ingest.submit(up(checkId));
    clock += 20_000;
    const swept = new Promise<void>((resolve) => {
      monitor = createCheckDeadlineMonitor({
        pool,
        health,
        logger: silentLogger(),
        now: () => clock,
        intervalMs: 20,
        takeoverIntervalMs: 20,
        onSweep: (evaluated) => evaluated.includes(checkId) && resolve(),
      });
    });
    monitor.start();
    await swept;
    expect((await health.handle.get(checkId))?.status).toBe("unknown");
  });
});

describe("a satellite going offline", () => {
  it("makes the checks it alone observed unknown, never unhealthy, and its heartbeat_lost names them", async () => {
    const [a, b] = [await connectedSatellite("eu-1"), await connectedSatellite("us-1")];
    const alone = await newCheck({ failuresToUnhealthy: 1, graceSeconds: 3_600 }, { name: "billing", runOn: { satellites: { ids: [a] } } });
    const shared = await newCheck({ failuresToUnhealthy: 1, graceSeconds: 3_600 }, { name: "api", runOn: { satellites: { ids: [a, b] } } });
    const elsewhere = await newCheck({ graceSeconds: 3_600 }, { name: "other", runOn: { satellites: { ids: [b] } } });
    await Promise.all([ingest.submit(up(alone, a)), ingest.submit(up(shared, a)), ingest.submit(up(shared, b)), ingest.submit(up(elsewhere, b))]);

    // a's heartbeat ages out; b keeps beating.
    clock += 46_000;
    await pool.query(`UPDATE satellites SET last_heartbeat_at = $2, offline_at = $2::timestamptz + interval '45 seconds' WHERE id = $1`, [b, new Date(clock)]);
    expect(await satellites.markHeartbeatLostMany({ satelliteIds: [a, b] })).toEqual([a]);
    const [lost] = await satellites.connection.history(a);
    const payload = satelliteTriggerPayloadSchema.parse(satelliteChangeToPayload(lost!));
    expect(payload.affectedChecks).toEqual({ count: 2, names: ["api", "billing"] });

    expect((await monitor.sweep()).sort()).toEqual([alone, shared].sort());
    expect(await health.handle.get(alone)).toMatchObject({ status: "unknown", locations: { [a]: { status: "unobservable" } } });
    expect(await health.handle.get(shared)).toMatchObject({ status: "healthy", locations: { [a]: { status: "unobservable" }, [b]: { status: "healthy" } } });
    expect(await health.handle.history(elsewhere)).toHaveLength(1);
    // The lost satellite's late results (a flush after it came back to another core) observe nothing.
    await ingest.submit(down(alone, a));
    expect((await health.handle.get(alone))?.status).toBe("unknown");
    expect(await eventsOf(alone)).not.toContain("check.unhealthy");
  });

  it("asks a connect's read of its next state for no affected checks, and keeps them named where a refused token leaves it offline", async () => {
    const [back, refused] = [await connectedSatellite("eu-1"), await connectedSatellite("us-1")];
    const billing = await newCheck({ graceSeconds: 3_600 }, { name: "billing", runOn: { satellites: { ids: [back, refused] } } });
    await Promise.all([ingest.submit(up(billing, back)), ingest.submit(up(billing, refused))]);
    clock += 46_000;
    expect((await satellites.markHeartbeatLostMany({ satelliteIds: [back, refused] })).sort()).toEqual([back, refused].sort());
    const affectedAsked = (calls: ReadonlyArray<readonly unknown[]>) =>
      statementsSent(calls).filter((query) => textOf(query).includes("JOIN check_health h ON h.location_ids")).length;
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      // Offline before (asked with the facts of prev), online after: one ask.
      const [connected] = await satellites.markConnectedMany([{ satelliteId: back, sessionId: randomUUID(), tokenHash: "unused" }]);
      expect(connected).toMatchObject({ prev: { status: "offline" }, next: { status: "online" } });
      expect(affectedAsked(spy.mock.calls)).toBe(1);

      // Refused: still offline after, so its next state is asked for after its facts, and equals prev.
      spy.mockClear();
      const [outcome] = await satellites.markConnectedMany([{ satelliteId: refused, sessionId: randomUUID(), tokenHash: "wrong" }]);
      expect(outcome).toHaveProperty("tokenRefused");
      expect(affectedAsked(spy.mock.calls)).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect((await satellites.connection.get(refused))?.affectedChecks).toEqual({ count: 1, names: ["billing"] });
    expect((await satellites.connection.history(refused)).map((change) => change.next?.lastEvent)).toEqual(["heartbeat_lost"]);
  });

  it("asks a close's read of its prev state for no affected checks, reads its next state once, and makes its checks due", async () => {
    const closing = await connectedSatellite("eu-1");
    const billing = await newCheck({ graceSeconds: 3_600 }, { name: "billing", runOn: { satellites: { ids: [closing] } } });
    await ingest.submit(up(billing, closing));
    const [session] = (await pool.query<{ session_id: string }>("SELECT session_id FROM satellites WHERE id = $1", [closing])).rows;
    const sent = (calls: ReadonlyArray<readonly unknown[]>, fragment: string) =>
      statementsSent(calls).filter((query) => textOf(query).includes(fragment)).length;
    const spy = vi.spyOn(pg.Client.prototype, "query");
    let calls: ReadonlyArray<readonly unknown[]>;
    try {
      const [closed] = await satellites.markDisconnectedMany([{ satelliteId: closing, sessionId: session!.session_id }]);
      expect(closed).toMatchObject({ prev: { status: "online" }, next: { status: "offline", affectedChecks: { count: 1, names: ["billing"] } } });
      calls = [...spy.mock.calls];
    } finally {
      spy.mockRestore();
    }
    // Online before (no ask), offline after: one ask, with the one read of next.
    expect(sent(calls, "JOIN check_health h ON h.location_ids")).toBe(1);
    expect(sent(calls, "FROM satellites\n  WHERE")).toBe(2);
    expect(sent(calls, "UPDATE check_health SET stale_at")).toBe(1);
    expect((await monitor.sweep()).sort()).toEqual([billing]);
    expect(await health.handle.get(billing)).toMatchObject({ status: "unknown", locations: { [closing]: { status: "unobservable" } } });
  });

  it("names no checks for a satellite that observes none, and nothing while online", async () => {
    const a = await connectedSatellite("eu-1");
    expect((await satellites.connection.get(a))?.affectedChecks).toBeUndefined();
    const [session] = (await pool.query<{ session_id: string }>("SELECT session_id FROM satellites WHERE id = $1", [a])).rows;
    await satellites.markDisconnected({ satelliteId: a, sessionId: session!.session_id });
    expect((await satellites.connection.get(a))?.affectedChecks).toEqual({ count: 0, names: [] });
  });
});

describe("a check whose definition changed", () => {
  it("drops the locations where it no longer runs, in the edit's transaction", async () => {
    const [a, b] = [await connectedSatellite("eu-1"), await connectedSatellite("us-1")];
    const store = new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 4)), onEdited: (tx, id) => health.evaluateEdited(tx, [id]) });
    const checkId = await newCheck({ failuresToUnhealthy: 1 }, { runOn: { satellites: { ids: [a, b] } } });
    await Promise.all([ingest.submit(down(checkId, a)), ingest.submit(up(checkId, b))]);
    expect((await health.handle.get(checkId))?.status).toBe("unhealthy");

    await store.edit(checkId, (row) => ({ ...row.definition, runOn: { core: false, satellites: { ids: [b] } } }));
    const state = await health.handle.get(checkId);
    expect(Object.keys(state!.locations)).toEqual([b]);
    expect(state?.status).toBe("healthy");
    const [change] = await health.handle.history(checkId);
    expect(change!.cause).toEqual({ type: "check.definition", id: checkId });
  });
});
