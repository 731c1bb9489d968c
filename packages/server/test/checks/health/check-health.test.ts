// The check-health entity where results arrive: the state a batch causes commits with it (or
// rolls back with it), with its history and trigger events; quorum across satellites, offline
// satellites that never count as failing, no change recorded for a result that moves nothing
// but time, batches of one check serialized, GET /checks/:id/health, and flapping as skips.
import { randomUUID } from "node:crypto";
import type { CheckHealthOptionsInput } from "@vantage/protocol";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAutomationCompiler, createTriggerRegistry, type TriggerRegistry } from "../../../src/automations/index.ts";
import { AutomationStore } from "../../../src/automations/definitions/automation-store.ts";
import { createAutomationIndex } from "../../../src/automations/routing/automation-index.ts";
import { createAutomationSink } from "../../../src/automations/routing/automation-sink.ts";
import { listSkips } from "../../../src/automations/runs/automation-runs.ts";
import { Registry } from "prom-client";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { checkHealthChangeToPayload } from "../../../src/checks/health/check-health-entity.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "../../../src/checks/health/check-health.ts";
import { createCheckHealthRoutes } from "../../../src/checks/health/health-routes.ts";
import { storeCheckSource } from "../../../src/checks/scheduling/check-source.ts";
import { createCoreLocationMetrics } from "../../../src/checks/scheduling/core-location-metrics.ts";
import { coreRunProbe } from "../../../src/checks/scheduling/core-location.ts";
import { createCoreRuns } from "../../../src/checks/scheduling/core-runs.ts";
import type { CheckResultInput } from "../../../src/checks/index.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { ingestContext, makeResult } from "../../support/checks/check-results.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startHttpReceiver } from "../../support/network/receivers.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";

let core: TestInstance;
let pool: pg.Pool;
let triggers: TriggerRegistry;
let health: CheckHealth;
let ingest: ResultIngest;
let clock: number;

beforeEach(async () => {
  clock = Date.now();
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "check-health");
  pool = core.pool;
  triggers = createTriggerRegistry();
  health = createCheckHealth({ pool, entities: core.entities, triggers, now: () => clock });
  ingest = createResultIngest({
    pool,
    logger: silentLogger(),
    context: ingestContext(pool, { now: () => clock }),
    inTransaction: evaluateHealthOnIngest(health),
    maxDelayMs: 1,
  });
});

afterEach(async () => {
  await ingest?.stop();
  await core?.stop();
});

const newCheck = (health: CheckHealthOptionsInput = {}, fields: Record<string, unknown> = {}) => insertCheck(pool, { health, ...fields });

/** A satellite row that is online now (its heartbeat at the clock), by name. */
async function onlineSatellite(name: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO satellites (name, region, token_hash, last_heartbeat_at, offline_at, last_connection_event)
     VALUES ($1, 'eu', 'unused', $2::timestamptz, $2::timestamptz + interval '45 seconds', 'connected') RETURNING id`,
    [name, new Date(clock).toISOString()],
  );
  return rows[0]!.id;
}

const goOffline = (ids: string[]) =>
  pool.query(`UPDATE satellites SET last_heartbeat_at = $2::timestamptz, offline_at = $2::timestamptz + interval '45 seconds' WHERE id = ANY($1::uuid[])`, [
    ids,
    new Date(clock - 120_000).toISOString(),
  ]);

const down = (checkId: string, location = "core"): CheckResultInput =>
  makeResult({ checkId, location, at: clock, status: "down", statusCode: 503, detail: { reason: "expected status 2xx, got 503", http: { statusCode: 503 } } });
const up = (checkId: string, location = "core"): CheckResultInput => makeResult({ checkId, location, at: clock, status: "up" });

/** Submits results that start at the clock, then moves the clock on a second. */
async function submit(...results: CheckResultInput[]): Promise<void> {
  await Promise.all(results.map((result) => ingest.submit(result)));
  clock += 1_000;
}

/** The events derived from the check's recorded changes, oldest first. */
async function eventsOf(checkId: string): Promise<string[][]> {
  const history = await health.handle.history(checkId);
  return history.reverse().map((change) => core.entities.deriveEvents(change));
}
const flat = (events: string[][]) => events.flat();

describe("evaluating health in the ingest transaction", () => {
  it("commits a result with the state it causes, its history (caused by the result) and its events", async () => {
    const checkId = await newCheck({ failuresToUnhealthy: 1 }, { name: "api" });
    const result = down(checkId);
    await submit(result);

    expect(await health.handle.get(checkId)).toMatchObject({
      status: "unhealthy",
      reason: "1 of 1 locations failing: core (status 503, expected 2xx)",
      locations: { core: { status: "unhealthy", lastResultAt: result.startedAt } },
      flapping: false,
      maintenance: false,
      name: "api",
      type: "http",
      target: "http://127.0.0.1:9/",
    });
    const [change] = await health.handle.history(checkId);
    expect(change!.cause).toEqual({ type: "check.result", id: result.resultId });
    expect(await eventsOf(checkId)).toEqual([["check.health_changed", "check.unhealthy"]]);
    expect(checkHealthChangeToPayload(change!)).toMatchObject({ checkId, name: "api", status: "unhealthy", previousStatus: "unknown" });
  });

  it("rolls the state back with the results when the batch fails after evaluating", async () => {
    await ingest.stop();
    ingest = createResultIngest({
      pool,
      logger: silentLogger(),
      context: ingestContext(pool, { now: () => clock }),
      inTransaction: evaluateHealthOnIngest(health, async () => {
        throw new Error("the batch fails after health was evaluated");
      }),
    });
    const checkId = await newCheck({ failuresToUnhealthy: 1 });
    await expect(ingest.submit(down(checkId))).rejects.toThrow("the batch fails");
    expect(await health.handle.get(checkId)).toBeNull();
    expect((await pool.query("SELECT 1 FROM check_results UNION ALL SELECT 1 FROM entity_changes WHERE kind = 'check-health'")).rowCount).toBe(0);
  });

  it("with quorum 2 over three satellites: one failing is degraded, two unhealthy (once), recovery fires recovered once", async () => {
    const [a, b, c] = [await onlineSatellite("eu-1"), await onlineSatellite("us-1"), await onlineSatellite("ap-1")];
    const checkId = await newCheck({ policy: { quorum: 2 }, failuresToUnhealthy: 1, successesToRecover: 1 }, { runOn: { satellites: { ids: [a, b, c] } } });
    await submit(up(checkId, a), up(checkId, b), up(checkId, c));
    await submit(down(checkId, a));
    expect(await health.handle.get(checkId)).toMatchObject({
      status: "degraded",
      reason: "partial outage: 1 of 3 locations failing: eu-1 (status 503, expected 2xx)",
    });
    await submit(down(checkId, b));
    expect((await health.handle.get(checkId))?.reason).toBe("2 of 3 locations failing: eu-1 (status 503, expected 2xx), us-1 (status 503, expected 2xx)");
    await submit(down(checkId, a), down(checkId, b));
    await submit(up(checkId, a));
    await submit(up(checkId, b));

    const events = flat(await eventsOf(checkId));
    expect(events.filter((event) => event === "check.unhealthy")).toHaveLength(1);
    expect(events.filter((event) => event === "check.recovered")).toHaveLength(1);
    expect((await health.handle.get(checkId))?.status).toBe("healthy");
  });

  it("counts a location whose satellite is offline as unobservable, never failing: all lost is unknown, not unhealthy", async () => {
    const [a, b] = [await onlineSatellite("eu-1"), await onlineSatellite("us-1")];
    const checkId = await newCheck({ failuresToUnhealthy: 1 }, { runOn: { satellites: { ids: [a, b] } } });
    await submit(up(checkId, a), up(checkId, b));
    await goOffline([a, b]);
    // Results of satellites already offline by their heartbeat (a late flush) still observe nothing.
    await submit(down(checkId, a), down(checkId, b));

    expect(await health.handle.get(checkId)).toMatchObject({
      status: "unknown",
      reason: "no location can observe the check: eu-1 (satellite offline), us-1 (satellite offline)",
      locations: { [a]: { status: "unobservable" }, [b]: { status: "unobservable" } },
    });
    expect(flat(await eventsOf(checkId))).not.toContain("check.unhealthy");
    expect(flat(await eventsOf(checkId))).toContain("check.unknown");
  });

  it("does not count results from a location runOn does not select (a run on demand there): stored, never observing", async () => {
    const [selected, other] = [await onlineSatellite("eu-1"), await onlineSatellite("us-1")];
    const checkId = await newCheck({ failuresToUnhealthy: 1 }, { runOn: { satellites: { ids: [selected] } } });
    const onDemand = down(checkId, other);
    await submit(onDemand, down(checkId, "core"));
    // Neither the satellite nor the core is selected: no location, no state.
    expect(await health.handle.get(checkId)).toBeNull();
    await submit(up(checkId, selected));
    await submit(down(checkId, other));
    expect(await health.handle.get(checkId)).toMatchObject({ status: "healthy", reason: "1 of 1 locations healthy" });
    expect(Object.keys((await health.handle.get(checkId))!.locations)).toEqual([selected]);
    expect((await pool.query("SELECT 1 FROM check_results WHERE result_id = $1", [onDemand.resultId])).rowCount).toBe(1);
  });

  it("writes a result that moves only the time of the last result without recording a change", async () => {
    const checkId = await newCheck();
    await submit(up(checkId));
    const second = up(checkId);
    await submit(second);
    expect(await health.handle.history(checkId)).toHaveLength(1);
    expect((await health.handle.get(checkId))?.locations.core?.lastResultAt).toBe(second.startedAt);
  });

  it("does not evaluate a resent result again", async () => {
    const checkId = await newCheck({ failuresToUnhealthy: 2 });
    const once = down(checkId);
    await submit(once);
    await submit({ ...once });
    // Evaluated twice, it would be unhealthy; once, the new check has no verdict yet.
    expect((await health.handle.get(checkId))?.status).toBe("unknown");
  });

  it("serializes two transactions evaluating one check: the second applies its result to what the first wrote", async () => {
    const [a, b] = [await onlineSatellite("eu-1"), await onlineSatellite("us-1")];
    const checkId = await newCheck({}, { runOn: { satellites: { ids: [a, b] } } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let evaluated!: () => void;
    const firstEvaluated = new Promise<void>((resolve) => (evaluated = resolve));
    const first = withTransaction(pool, async (tx) => {
      await health.evaluateHealth(tx, [up(checkId, a)]);
      evaluated();
      await held;
    });
    await firstEvaluated;
    const second = withTransaction(pool, (tx) => health.evaluateHealth(tx, [up(checkId, b)]));
    await waitForLockWait();
    release();
    await Promise.all([first, second]);
    expect(Object.keys((await health.handle.get(checkId))!.locations).sort()).toEqual([a, b].sort());
  });
});

/** Resolves once some backend of this database waits on a row lock (the second evaluation queued on the check's row). */
async function waitForLockWait(): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { rowCount } = await pool.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')",
    );
    if (rowCount) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("the second evaluation never waited for the first one's lock");
}

describe("GET /checks/:id/health", () => {
  const app = () =>
    createApiApp(pool, {
      "/checks": createCheckHealthRoutes({
        pool,
        store: new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 1)) }),
        health: health.handle,
        now: () => clock,
      }),
    });

  it("answers the entity's state after results", async () => {
    const checkId = await newCheck({ failuresToUnhealthy: 1 });
    await submit(down(checkId));
    const answer = await callApi(await app(), "GET", `/api/v1/checks/${checkId}/health`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "unhealthy", locations: { core: { status: "unhealthy" } } });
  });

  it("answers unknown since its creation for a check without results, and 404 for no check", async () => {
    const checkId = await newCheck({}, { name: "quiet" });
    const served = await app();
    const answer = await callApi(served, "GET", `/api/v1/checks/${checkId}/health`);
    expect(answer.body).toMatchObject({ status: "unknown", reason: "no results yet", locations: {}, name: "quiet" });
    const missing = await callApi(served, "GET", `/api/v1/checks/${randomUUID()}/health`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: "check_not_found" } });
  });
});

describe("the check triggers", () => {
  it("are registered with their payload schemas", () => {
    expect(
      triggers
        .list()
        .map((trigger) => trigger.id)
        .sort(),
    ).toEqual([
      "check.degraded",
      "check.flapping_started",
      "check.flapping_stopped",
      "check.health_changed",
      "check.recovered",
      "check.unhealthy",
      "check.unknown",
    ]);
  });

  it("compile the README's automation: a filter on a label of the payload", () => {
    const compiler = createAutomationCompiler({ triggers, entities: core.entities });
    const result = compiler.compile({
      name: "page on outage",
      triggers: [{ event: "check.unhealthy", filter: { compare: { left: "trigger.payload.labels.env", op: "==", right: "'prod'" } } }],
      actions: [{ log: { message: "{{ trigger.payload.name }} is down: {{ trigger.payload.reason }}" } }],
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it("a real target alternating every run: flapping starts once, its unhealthy and recovered become skips, and it stops once the target holds", async () => {
    const compiler = createAutomationCompiler({ triggers, entities: core.entities });
    const store = new AutomationStore(pool, createSecretBox(Buffer.alloc(32, 2)));
    const automation = (event: string) => {
      const definition = { name: `on-${event}`, mode: "parallel", triggers: [{ event }], actions: [{ log: { message: "{{ trigger.payload.reason }}" } }] };
      const result = compiler.compile(definition);
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      return store.create(result.compiled);
    };
    const [onUnhealthy, onRecovered, onStarted, onStopped] = await Promise.all(
      ["check.unhealthy", "check.recovered", "check.flapping_started", "check.flapping_stopped"].map(automation),
    );
    const index = createAutomationIndex({ store, hub: core.hub, logger: silentLogger(), compiler, triggers });
    await index.start();
    // A target on 127.0.0.1 that alternates 503 and 200 for its first 7 requests (6 status
    // changes: 30 % of the 20 evaluations flapping looks at), then answers 200.
    const alternating = 7;
    const target = await startHttpReceiver();
    target.answerNext(...Array.from({ length: alternating }, (_, n) => ({ status: n % 2 === 0 ? 503 : 200 })));
    try {
      const checkId = await newCheck({ failuresToUnhealthy: 1, successesToRecover: 1 }, { url: `${target.origin}/health` });
      const checks = new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 1)) });
      // The core location's own runs (the real http probe, then ingest), one per interval of the clock.
      const runs = createCoreRuns({
        runProbe: coreRunProbe(() => clock, { allowPrivateTargets: true }),
        source: storeCheckSource(checks),
        ingest,
        metrics: createCoreLocationMetrics(new Registry()),
        logger: silentLogger(),
        now: () => clock,
      });
      const [row] = await checks.rows([checkId]);
      // 7 changes (the last down's recovery too); flapping stops once at most 3 of the last 20
      // evaluations changed the status: at the 25th.
      for (let run = 0; run < 25; run++) {
        expect((await runs.runStored({ ...row!, type: "http" }))?.status).toBe(run < alternating && run % 2 === 0 ? "down" : "up");
        clock += 60_000;
      }
      expect(await health.handle.get(checkId)).toMatchObject({ status: "healthy", flapping: false });

      const changes = (await health.handle.history(checkId)).reverse();
      const routed = changes.map((change) => ({
        change: change as typeof change & { seq: number; changeId: string },
        eventIds: core.entities.deriveEvents(change),
        payload: core.entities.toPayload(change),
      }));
      const sink = createAutomationSink({ index, triggers, entities: core.entities, logger: silentLogger() });
      await withTransaction(pool, (tx) => sink.deliver(routed, tx));

      const runsOf = async (id: string) => (await pool.query("SELECT 1 FROM automation_runs WHERE automation_id = $1", [id])).rowCount;
      const fired = (event: string) => routed.filter((entry) => entry.eventIds.includes(event)).length;
      expect(await runsOf(onStarted!.id)).toBe(1);
      expect(await runsOf(onStopped!.id)).toBe(1);
      // Before flapping started, each edge ran; from then on, each was recorded as a skip.
      const started = routed.findIndex((entry) => entry.eventIds.includes("check.flapping_started"));
      const before = (event: string) => routed.slice(0, started).filter((entry) => entry.eventIds.includes(event)).length;
      expect(await runsOf(onUnhealthy!.id)).toBe(before("check.unhealthy"));
      expect(await runsOf(onRecovered!.id)).toBe(before("check.recovered"));
      const skipped = async (id: string) => (await listSkips(pool, id)).filter((skip) => skip.reason === "flapping").length;
      expect(await skipped(onUnhealthy!.id)).toBe(fired("check.unhealthy") - before("check.unhealthy"));
      expect(await skipped(onRecovered!.id)).toBe(fired("check.recovered") - before("check.recovered"));
      expect(await skipped(onUnhealthy!.id)).toBeGreaterThan(0);
      expect(await skipped(onRecovered!.id)).toBeGreaterThan(0);
    } finally {
      await target.close();
      await index.stop();
    }
  });
});
