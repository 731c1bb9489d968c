// Proves GET /checks/:id/incidents and GET /checks/:id/uptime over a real PostgreSQL with an injected clock: incidents are the periods unhealthy
// (degraded on request) from the entity's history, newest first in keyset pages, an open one with no end; uptime is time-weighted from the recorded
// changes excluding unknown and maintenance time, per check and per location, and reachability is successes ÷ observable results from the rollups.
import type { Hono } from "hono";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTriggerRegistry } from "../../../src/automations/index.ts";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "../../../src/checks/health/check-health.ts";
import type { IncidentPage } from "../../../src/checks/health/check-incidents.ts";
import type { CheckUptime } from "../../../src/checks/health/check-uptime.ts";
import { createCheckHealthRoutes } from "../../../src/checks/health/health-routes.ts";
import type { CheckResultInput } from "../../../src/checks/index.ts";
import { LATENCY_BUCKET_BOUNDS_MS } from "../../../src/checks/index.ts";
import { MaintenanceWindowStore } from "../../../src/checks/maintenance-windows/maintenance-window-store.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { ingestContext, makeResult } from "../../support/checks/check-results.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2026-06-01T12:00:00Z");
let core: TestInstance;
let pool: pg.Pool;
let health: CheckHealth;
let ingest: ResultIngest;
let app: Hono;
let clock: number;

beforeEach(async () => {
  clock = T0;
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "check-incidents");
  pool = core.pool;
  health = createCheckHealth({ pool, entities: core.entities, triggers: createTriggerRegistry(), now: () => clock });
  ingest = createResultIngest({
    pool,
    logger: silentLogger(),
    context: ingestContext(pool, { now: () => clock }),
    inTransaction: evaluateHealthOnIngest(health),
    maxDelayMs: 1,
  });
  const store = new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 4)) });
  app = await createApiApp(pool, { "/checks": createCheckHealthRoutes({ pool, store, health: health.handle, now: () => clock }) });
});

afterEach(async () => {
  await ingest?.stop();
  await core?.stop();
});

const result = (checkId: string, status: CheckResultInput["status"]): CheckResultInput =>
  status === "down"
    ? makeResult({
        checkId,
        location: "core",
        at: clock,
        status,
        statusCode: 503,
        detail: { reason: "expected status 2xx, got 503", http: { statusCode: 503 } },
      })
    : makeResult({ checkId, location: "core", at: clock, status });

/**
 * Submits a result at `at` (the clock moves there) and stamps the change it recorded, if any,
 * with that instant: the history's times are the database's clock, which a test cannot move.
 */
async function at(offsetMinutes: number, checkId: string, status: CheckResultInput["status"]): Promise<void> {
  clock = T0 + offsetMinutes * MINUTE;
  const before = await newestSeq(checkId);
  await ingest.submit(result(checkId, status));
  await stampSince(checkId, before, clock);
}
const newestSeq = async (checkId: string) =>
  Number((await pool.query<{ seq: string | null }>("SELECT max(seq) AS seq FROM entity_changes WHERE entity_id = $1", [checkId])).rows[0]!.seq ?? 0);
const stampSince = (checkId: string, after: number, instant: number) =>
  pool.query("UPDATE entity_changes SET occurred_at = $3 WHERE entity_id = $1 AND seq > $2", [checkId, after, new Date(instant).toISOString()]);

const get = async <Body>(path: string) => {
  const answer = await callApi<Body>(app, "GET", `/api/v1/checks${path}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
};
const iso = (offsetMinutes: number) => new Date(T0 + offsetMinutes * MINUTE).toISOString();

describe("incidents", () => {
  it("are the periods unhealthy, newest first, the open one without an end, in keyset pages", async () => {
    const checkId = await insertCheck(pool, { health: { failuresToUnhealthy: 1, successesToRecover: 1 } });
    await at(0, checkId, "up");
    await at(10, checkId, "down");
    await at(15, checkId, "up");
    await at(30, checkId, "down");
    clock = T0 + 42 * MINUTE;

    const page = await get<IncidentPage>(`/${checkId}/incidents`);
    expect(page.nextCursor).toBeNull();
    expect(page.incidents).toEqual([
      {
        id: expect.any(String),
        severity: "unhealthy",
        start: iso(30),
        end: null,
        durationMs: 12 * MINUTE,
        reason: "1 of 1 locations failing: core (status 503, expected 2xx)",
        locations: { core: "unhealthy" },
      },
      expect.objectContaining({ severity: "unhealthy", start: iso(10), end: iso(15), durationMs: 5 * MINUTE }),
    ]);
    const first = await get<IncidentPage>(`/${checkId}/incidents?limit=1`);
    expect(first.incidents.map((incident) => incident.start)).toEqual([iso(30)]);
    const second = await get<IncidentPage>(`/${checkId}/incidents?limit=1&cursor=${first.nextCursor}`);
    expect(second.incidents.map((incident) => incident.start)).toEqual([iso(10)]);
    expect((await get<IncidentPage>(`/${checkId}/incidents?limit=1&cursor=${second.nextCursor}`)).incidents).toEqual([]);
  });

  it("include degraded periods as their own severity only when asked, and none for a check that never failed", async () => {
    const checkId = await insertCheck(pool, { health: { failuresToUnhealthy: 1, successesToRecover: 1 } });
    await at(0, checkId, "up");
    await at(5, checkId, "degraded");
    await at(8, checkId, "down");
    await at(9, checkId, "up");
    expect((await get<IncidentPage>(`/${checkId}/incidents`)).incidents.map((incident) => [incident.severity, incident.start, incident.end])).toEqual([
      ["unhealthy", iso(8), iso(9)],
    ]);
    const both = await get<IncidentPage>(`/${checkId}/incidents?severity=unhealthy,degraded`);
    expect(both.incidents.map((incident) => [incident.severity, incident.start, incident.end])).toEqual([
      ["unhealthy", iso(8), iso(9)],
      ["degraded", iso(5), iso(8)],
    ]);
    const quiet = await insertCheck(pool);
    await at(10, quiet, "up");
    expect(await get<IncidentPage>(`/${quiet}/incidents`)).toEqual({ incidents: [], nextCursor: null });
  });

  it("answer 404 for no check and 400 for a bad cursor or severity", async () => {
    expect((await callApi(app, "GET", "/api/v1/checks/00000000-0000-4000-8000-000000000000/incidents")).status).toBe(404);
    const checkId = await insertCheck(pool);
    for (const query of ["cursor=abc", "severity=down", "limit=0"])
      expect(await callApi(app, "GET", `/api/v1/checks/${checkId}/incidents?${query}`), query).toMatchObject({
        status: 400,
        body: { error: { code: "invalid_query" } },
      });
  });
});

describe("uptime", () => {
  async function rollup(checkId: string, minute: number, location: string, counts: { up: number; down: number; error: number }) {
    await ingestContext(pool).partitions.ensure("1m", [T0]);
    const hist = new Array(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
    hist[0] = counts.up + counts.down;
    await pool.query(
      `INSERT INTO check_rollups_1m (check_id, bucket, location, total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist)
       VALUES ($1, $2, $3, $4, $5, 0, $6, $7, 0, 0, 0, $8)`,
      [checkId, iso(minute), location, counts.up + counts.down + counts.error, counts.up, counts.down, counts.error, `{${hist.join(",")}}`],
    );
  }

  it("weighs time up against time down, leaving out unknown time before the first state and a maintenance window", async () => {
    const checkId = await insertCheck(pool, { health: { failuresToUnhealthy: 1, successesToRecover: 1 } });
    const windows = new MaintenanceWindowStore({ pool, health: health.handle, now: () => clock });
    await at(10, checkId, "up"); // unknown 0–10
    await at(20, checkId, "down"); // healthy 10–20
    await at(25, checkId, "up"); // unhealthy 20–25
    // A window over 40–50: the flag is flipped at its start and end (stamped at those instants).
    const window = await windows.create({ name: "w", checks: { ids: [checkId] }, start: iso(40), end: iso(50) });
    clock = T0 + 40 * MINUTE;
    let before = await newestSeq(checkId);
    await windows.advanceDue();
    await stampSince(checkId, before, clock);
    await at(45, checkId, "down"); // in maintenance: not downtime
    clock = T0 + 50 * MINUTE;
    before = await newestSeq(checkId);
    await windows.advanceDue();
    await stampSince(checkId, before, clock);
    await at(55, checkId, "up"); // unhealthy 50–55 (after the window)
    clock = T0 + 60 * MINUTE;
    expect((await windows.get(window.id)).active).toBe(false);
    await rollup(checkId, 20, "core", { up: 3, down: 1, error: 1 });
    await rollup(checkId, 30, "core", { up: 4, down: 0, error: 0 });

    const uptime = await get<CheckUptime>(`/${checkId}/uptime?from=${iso(0)}&to=${iso(60)}`);
    expect(uptime.durations).toEqual({ unknownMs: 10 * MINUTE, healthyMs: 30 * MINUTE, unhealthyMs: 10 * MINUTE, degradedMs: 0, maintenanceMs: 10 * MINUTE });
    expect(uptime.uptime).toBeCloseTo(30 / 40);
    // Reachability: 7 successes of 8 observable results (the probe error does not count).
    expect(uptime.reachability).toBeCloseTo(7 / 8);
    expect(uptime.locations.core).toMatchObject({
      uptime: 30 / 40,
      reachability: 7 / 8,
      durations: { healthyMs: 30 * MINUTE, unhealthyMs: 10 * MINUTE },
      counts: { total: 9, up: 7, down: 1, error: 1 },
    });
    // A range inside one state, and one ending in the future (cut at now).
    expect((await get<CheckUptime>(`/${checkId}/uptime?from=${iso(30)}&to=${iso(35)}`)).uptime).toBe(1);
    const ahead = await get<CheckUptime>(`/${checkId}/uptime?from=${iso(55)}&to=${iso(600)}`);
    expect(ahead).toMatchObject({ to: iso(60), uptime: 1, durations: { healthyMs: 5 * MINUTE } });
  });

  it("is null for a check never observed, and refuses a range whose from is not before its to", async () => {
    const checkId = await insertCheck(pool);
    expect(await get<CheckUptime>(`/${checkId}/uptime`)).toMatchObject({ uptime: null, reachability: null, locations: {} });
    expect(await callApi(app, "GET", `/api/v1/checks/${checkId}/uptime?from=${iso(5)}&to=${iso(5)}`)).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_range" } },
    });
  });
});
