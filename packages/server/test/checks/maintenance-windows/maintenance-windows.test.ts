// Proves maintenance windows end to end on a real PostgreSQL: the API (JSON and YAML, errors at
// their paths, GET → PUT), the health's `maintenance` flag set by results inside a window and
// flipped by the boundary duty at a window's start and end without a result, and a failure
// inside a window that fires nothing and is recorded as a skip (reason maintenance).
import { randomUUID } from "node:crypto";
import type { CheckDefinition } from "@vantage/protocol";
import type { Hono } from "hono";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createAutomationCompiler, createTriggerRegistry, type TriggerRegistry } from "../../../src/automations/index.ts";
import { AutomationStore } from "../../../src/automations/definitions/automation-store.ts";
import { createAutomationIndex } from "../../../src/automations/routing/automation-index.ts";
import { createAutomationSink } from "../../../src/automations/routing/automation-sink.ts";
import { listSkips } from "../../../src/automations/runs/automation-runs.ts";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "../../../src/checks/health/check-health.ts";
import type { CheckResultInput, MaintenanceWindowView } from "../../../src/checks/index.ts";
import { createMaintenanceWindowDuty } from "../../../src/checks/maintenance-windows/maintenance-window-duty.ts";
import { createMaintenanceWindowRoutes } from "../../../src/checks/maintenance-windows/maintenance-window-routes.ts";
import { MaintenanceWindowStore } from "../../../src/checks/maintenance-windows/maintenance-window-store.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { callApi, createApiApp, TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { ingestContext, makeResult } from "../../support/checks/check-results.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";

const MINUTE = 60_000;
let core: TestInstance;
let pool: pg.Pool;
let triggers: TriggerRegistry;
let health: CheckHealth;
let ingest: ResultIngest;
let windows: MaintenanceWindowStore;
let app: Hono;
let clock: number;

beforeEach(async () => {
  clock = Date.parse("2026-06-01T12:00:00Z");
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "maintenance-windows");
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
  windows = new MaintenanceWindowStore({ pool, health: health.handle, now: () => clock });
  app = await createApiApp(pool, { "/maintenance-windows": createMaintenanceWindowRoutes({ store: windows, now: () => clock }) });
});

afterEach(async () => {
  await ingest?.stop();
  await core?.stop();
});

const call = <Body = MaintenanceWindowView>(method: string, path: string, body?: unknown) =>
  callApi<Body>(app, method, `/api/v1/maintenance-windows${path}`, body);
const iso = (ms: number) => new Date(ms).toISOString();
const down = (checkId: string): CheckResultInput =>
  makeResult({
    checkId,
    location: "core",
    at: clock,
    status: "down",
    statusCode: 503,
    detail: { reason: "expected status 2xx, got 503", http: { statusCode: 503 } },
  });
const up = (checkId: string): CheckResultInput => makeResult({ checkId, location: "core", at: clock, status: "up" });
async function submit(result: CheckResultInput): Promise<void> {
  await ingest.submit(result);
  clock += 1_000;
}

describe("the maintenance windows API", () => {
  it("creates, reads, lists, replaces what a GET answered, and deletes a window", async () => {
    const checkId = await insertCheck(pool);
    const created = await call("POST", "", {
      name: "db upgrade",
      checks: { ids: [checkId.toUpperCase()] },
      start: iso(clock + MINUTE),
      end: iso(clock + 61 * MINUTE),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: "db upgrade",
      checks: { ids: [checkId] },
      active: false,
      occurrence: { start: iso(clock + MINUTE), end: iso(clock + 61 * MINUTE) },
      revision: 1,
    });
    const id = created.body.id;
    expect(await call("GET", `/${id}`)).toMatchObject({ status: 200, body: created.body });
    const shown = (await call("GET", `/${id}`)).body;
    const replaced = await call("PUT", `/${id}`, { ...shown, description: "moved a day", start: iso(clock - MINUTE) });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ description: "moved a day", active: true, revision: 2 });
    const stale = await call("PUT", `/${id}`, shown);
    expect(stale).toMatchObject({ status: 409, body: { error: { code: "maintenance_window_changed" } } });
    const page = await call<{ windows: MaintenanceWindowView[]; nextCursor: string | null }>("GET", "?limit=1");
    expect(page.body).toMatchObject({ windows: [{ id }], nextCursor: expect.any(String) });
    expect((await call<{ windows: unknown[] }>("GET", `?cursor=${page.body.nextCursor}`)).body.windows).toEqual([]);
    expect((await call("DELETE", `/${id}`)).status).toBe(204);
    expect(await call("GET", `/${id}`)).toMatchObject({ status: 404, body: { error: { code: "maintenance_window_not_found" } } });
    expect((await call("DELETE", `/${randomUUID()}`)).status).toBe(404);
    // Its history outlives it: who created, moved and deleted it, and why (the refused stale PUT left nothing).
    const history = await call<{ changes: Array<Record<string, unknown>> }>("GET", `/${id}/history`);
    expect(history.body.changes).toMatchObject([
      { action: "delete", revision: 3, changedFields: [] },
      { action: "update", revision: 2, changedFields: ["description", "start"] },
      { action: "create", revision: 1, changedFields: ["checks", "end", "name", "start"] },
    ]);
    for (const change of history.body.changes) expect(change).toMatchObject({ actor: { type: "token", id: "admin" }, cause: { type: "api-request" } });
    expect(await call("GET", `/${randomUUID()}/history`)).toMatchObject({ status: 404, body: { error: { code: "maintenance_window_not_found" } } });
  });

  it("takes a weekly window authored as YAML and answers it as YAML when asked", async () => {
    const yaml = [
      "name: sunday patching",
      "checks:",
      "  labels: { env: prod }",
      "start: 2026-05-31T02:00:00+02:00",
      "end: 2026-05-31T04:00:00+02:00",
      "recurrence: { frequency: weekly, timeZone: Europe/Berlin }",
    ].join("\n");
    const response = await app.request("/api/v1/maintenance-windows", {
      method: "POST",
      body: yaml,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/yaml", accept: "application/yaml" },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    // The next Sunday after 2026-06-01 at 02:00 Berlin (+02:00).
    expect(parse(await response.text())).toMatchObject({
      name: "sunday patching",
      active: false,
      occurrence: { start: "2026-06-07T00:00:00.000Z", end: "2026-06-07T02:00:00.000Z" },
    });
  });

  it("refuses an invalid window at each path, storing nothing, and a taken name with 409", async () => {
    const refused = await call("POST", "", {
      name: "bad",
      checks: {},
      start: iso(clock),
      end: iso(clock - MINUTE),
      recurrence: { frequency: "weekly", timeZone: "Mars/Olympus", days: ["funday"] },
    });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "invalid_maintenance_window" } } });
    const paths = (refused.body as unknown as { error: { details: { issues: Array<{ path: string }> } } }).error.details.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["checks", "recurrence.timeZone", "recurrence.days.0"]));
    expect((await pool.query("SELECT 1 FROM maintenance_windows")).rowCount).toBe(0);
    const window = { name: "once", checks: { labels: { env: "prod" } }, start: iso(clock), end: iso(clock + MINUTE) };
    expect((await call("POST", "", window)).status).toBe(201);
    expect(await call("POST", "", window)).toMatchObject({ status: 409, body: { error: { code: "maintenance_window_name_taken" } } });
    const backwards = await call("POST", "", { ...window, name: "backwards", end: iso(clock - MINUTE) });
    expect(backwards).toMatchObject({
      status: 400,
      body: { error: { details: { issues: [{ path: "end", message: expect.stringContaining("after start") }] } } },
    });
  });
});

describe("the maintenance flag", () => {
  it("is set by results inside a window, also for a check evaluated for the first time", async () => {
    const inWindow = await insertCheck(pool, { labels: { env: "prod" } });
    const outside = await insertCheck(pool, { labels: { env: "dev" } });
    await windows.create({ name: "prod", checks: { labels: { env: "prod" } }, start: iso(clock - MINUTE), end: iso(clock + MINUTE) });
    await submit(up(inWindow));
    await submit(up(outside));
    expect(await health.handle.get(inWindow)).toMatchObject({ status: "healthy", maintenance: true });
    expect(await health.handle.get(outside)).toMatchObject({ status: "healthy", maintenance: false });
  });

  it("flips on at a window's start and off at its end through the duty, without a result, caused by the window", async () => {
    const checkId = await insertCheck(pool);
    await submit(up(checkId));
    const window = await windows.create({ name: "later", checks: { ids: [checkId] }, start: iso(clock + MINUTE), end: iso(clock + 2 * MINUTE) });
    const duty = createMaintenanceWindowDuty({ pool, logger: silentLogger(), store: windows });
    expect(await duty.runOnce()).toBe(0); // nothing due yet: no window read, no flag touched
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: false });
    clock += MINUTE;
    expect(await duty.runOnce()).toBe(1);
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: true, status: "healthy" });
    const [started] = await health.handle.history(checkId);
    expect(started!.cause).toEqual({ type: "maintenance-window", id: window.id });
    expect(started!.changedFields).toEqual(["maintenance"]);
    expect(core.entities.deriveEvents(started!)).toEqual([]);
    clock += MINUTE;
    expect(await duty.runOnce()).toBe(1);
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: false });
    // A one-off window that ended has no boundary left.
    expect(await duty.runOnce()).toBe(0);
    expect((await windows.get(window.id)).occurrence).toBeNull();
  });

  it("follows edits and deletes at once: a window moved over now, then deleted", async () => {
    const checkId = await insertCheck(pool);
    await submit(up(checkId));
    const window = await windows.create({ name: "moved", checks: { ids: [checkId] }, start: iso(clock + 60 * MINUTE), end: iso(clock + 120 * MINUTE) });
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: false });
    await windows.replace(window.id, (stored) => ({ ...stored.definition, start: iso(clock - MINUTE) }));
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: true });
    await windows.remove(window.id);
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: false });
  });
  it("follows a relabel at once, without a result: a check labelled into a window's selector, then out of it", async () => {
    const checkId = await insertCheck(pool, { labels: { env: "dev" } });
    await submit(up(checkId));
    await windows.create({ name: "prod", checks: { labels: { env: "prod" } }, start: iso(clock - MINUTE), end: iso(clock + MINUTE) });
    const checks = new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 4)), onEdited: (tx, id) => health.evaluateEdited(tx, [id]) });
    const relabel = (env: string) => checks.edit(checkId, (stored) => ({ ...(stored.definition as CheckDefinition), labels: { env } }));
    await relabel("prod");
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: true, status: "healthy" });
    const [flagged] = await health.handle.history(checkId);
    expect(flagged!.changedFields).toEqual(["maintenance"]);
    expect(flagged!.cause).toEqual({ type: "check.definition", id: checkId });
    await relabel("dev");
    expect(await health.handle.get(checkId)).toMatchObject({ maintenance: false });
  });
});

describe("a failure inside a window", () => {
  it("fires nothing and is recorded as a skip (reason maintenance); after the window it fires again", async () => {
    const compiler = createAutomationCompiler({ triggers, entities: core.entities });
    const automations = new AutomationStore(pool, createSecretBox(Buffer.alloc(32, 3)));
    const compiled = compiler.compile({
      name: "page",
      triggers: [{ event: "check.unhealthy" }],
      actions: [{ log: { message: "{{ trigger.payload.reason }}" } }],
    });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const onUnhealthy = await automations.create(compiled.compiled);
    const index = createAutomationIndex({ store: automations, hub: core.hub, logger: silentLogger(), compiler, triggers });
    await index.start();
    try {
      const sink = createAutomationSink({ index, triggers, entities: core.entities, logger: silentLogger() });
      const deliver = async (checkId: string, since: number) => {
        const changes = (await health.handle.history(checkId)).reverse().slice(since);
        const routed = changes.map((change) => ({
          change: change as typeof change & { seq: number; changeId: string },
          eventIds: core.entities.deriveEvents(change),
          payload: core.entities.toPayload(change),
        }));
        await withTransaction(pool, (tx) => sink.deliver(routed, tx));
        return changes.length;
      };
      const runs = async () => (await pool.query("SELECT 1 FROM automation_runs WHERE automation_id = $1", [onUnhealthy.id])).rowCount;
      const checkId = await insertCheck(pool, { health: { failuresToUnhealthy: 1, successesToRecover: 1 } });
      await windows.create({ name: "now", checks: { ids: [checkId] }, start: iso(clock - MINUTE), end: iso(clock + MINUTE) });
      await submit(up(checkId));
      await submit(down(checkId));
      expect(await health.handle.get(checkId)).toMatchObject({ status: "unhealthy", maintenance: true });
      const delivered = await deliver(checkId, 0);
      expect((await listSkips(pool, onUnhealthy.id)).map((skip) => skip.reason)).toEqual(["maintenance"]);
      expect(await runs()).toBe(0);

      // The window ends (the duty flips the flag); the next failure pages.
      clock += 2 * MINUTE;
      await createMaintenanceWindowDuty({ pool, logger: silentLogger(), store: windows }).runOnce();
      await submit(up(checkId));
      await submit(down(checkId));
      await deliver(checkId, delivered);
      expect(await runs()).toBe(1);
      expect(await listSkips(pool, onUnhealthy.id)).toHaveLength(1);
    } finally {
      await index.stop();
    }
  });
});
