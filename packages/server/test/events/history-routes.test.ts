// The history API: one entity's changes newest first in keyset pages with actor, cause and the
// automation runs and skips each caused; every change after a position or instant in outbox
// order; the changes a cause made; and every one of those reads served by an index.
import { CAUSE_TYPES, SYSTEM_ACTOR } from "@vantage/protocol";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANGES_OF_RUN, RUNS_BY_ID, RUNS_OF_CHANGES, SKIPS_OF_CHANGES } from "../../src/automations/runs/change-links.ts";
import { CHANGES_OF_CAUSE, CHANGES_OF_ENTITY, LATEST_CHANGES } from "../../src/events/change-history.ts";
import { randomUUID } from "node:crypto";
import { startEvents } from "../../src/events/index.ts";
import { type SatellitesModule, startSatellites } from "../../src/satellites/index.ts";
import { FIRST_AT_OR_AFTER, PAGE_ALL, PAGE_OF_KINDS, POSITION_OF_SEQ } from "../../src/events/outbox-pages.ts";
import type { StoredChange } from "../../src/entities/index.ts";
import { callApi, createModulesApp, TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";
import { testModuleDeps, type TestModuleDeps } from "../support/module-deps.ts";
import { untilSettled } from "../support/entities/settled.ts";
import { CREATE_THINGS, defineThings, upsertThing } from "../support/entities/things.ts";

let instance: TestInstance;
let modules: TestModuleDeps;
let app: Hono;
let satellites: SatellitesModule;
let things: ReturnType<typeof defineThings>;
let gadgets: ReturnType<typeof defineThings>;
/** The three changes of thing "h", oldest first. */
const history: StoredChange[] = [];
let runId = "";
let runChangeSeq = 0;
let skipId = "";

type Page = {
  changes: Array<StoredChange & { caused: { runs: Array<{ id: string; status: string }>; skips: Array<{ id: string; reason: string }> } }>;
  next: string | null;
};

beforeAll(async () => {
  const db = await createTestDatabase();
  instance = await startTestInstance(db.url, "history");
  await instance.pool.query(CREATE_THINGS);
  things = defineThings(instance.entities, instance.pool);
  gadgets = defineThings(instance.entities, instance.pool, "gadget");
  modules = testModuleDeps(instance);
  satellites = await startSatellites(modules.deps);
  app = await createModulesApp(instance.pool, [satellites, await startEvents(modules.deps)]);

  const actor = { type: "token" as const, id: "ci", name: "CI" };
  for (const [value, cause] of [
    [1, null],
    [2, null],
    [3, { type: CAUSE_TYPES.apiRequest, id: "req-1" }],
  ] as const) {
    const { change } = await things.mutate({ id: "h", actor, cause, apply: upsertThing("h", value, `v${value}`) });
    history.push(change as StoredChange);
  }
  // The automation engine's record of what the second change caused: one run, one skip.
  const { rows } = await instance.pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('a', '{"name":"a","triggers":[],"actions":[]}', '{}') RETURNING id`,
  );
  const automationId = rows[0]!.id;
  runId = (
    await instance.pool.query<{ id: string }>(
      `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger) VALUES ($1, 1, 't1', 'thing.changed', $2, 'succeeded', '{}') RETURNING id`,
      [automationId, history[1]!.changeId],
    )
  ).rows[0]!.id;
  // A run is an entity too (automation-run-status): its insert recorded a change of its own.
  runChangeSeq = Number((await instance.pool.query<{ seq: string }>("SELECT seq FROM entity_changes WHERE entity_id = $1", [runId])).rows[0]!.seq);
  skipId = (
    await instance.pool.query<{ id: string }>(
      `INSERT INTO automation_skips (automation_id, automation_version, trigger_id, trigger_event, change_id, reason) VALUES ($1, 1, 't2', 'thing.changed', $2, 'condition_false') RETURNING id`,
      [automationId, history[1]!.changeId],
    )
  ).rows[0]!.id;
  await untilSettled(instance.pool, [...history.map((change) => change.seq), runChangeSeq]);
});

afterAll(async () => {
  await modules?.stop();
  await instance?.stop();
});

describe("GET /api/v1/entities/:kind/:id/changes", () => {
  it("pages one entity's changes newest first, each with prev, next, changed fields, actor, cause and what it caused", async () => {
    const first = await callApi<Page>(app, "GET", "/api/v1/entities/thing/h/changes?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.changes.map((change) => change.seq)).toEqual([history[2]!.seq, history[1]!.seq]);
    expect(first.body.next).toBe(String(history[1]!.seq));
    const newest = first.body.changes[0]!;
    expect(newest).toMatchObject({
      prev: { value: 2, label: "v2" },
      next: { value: 3, label: "v3" },
      changedFields: ["label", "value"],
      actor: { type: "token", id: "ci" },
      cause: { type: "api-request", id: "req-1" },
    });
    expect(newest.caused).toEqual({ runs: [], skips: [] });
    expect(first.body.changes[1]!.caused.runs).toMatchObject([{ id: runId, status: "succeeded", triggerId: "t1", event: "thing.changed" }]);
    expect(first.body.changes[1]!.caused.skips).toMatchObject([{ id: skipId, reason: "condition_false" }]);

    const second = await callApi<Page>(app, "GET", `/api/v1/entities/thing/h/changes?limit=2&before=${first.body.next}`);
    expect(second.body.changes.map((change) => change.seq)).toEqual([history[0]!.seq]);
    expect(second.body.changes[0]!.prev).toBeNull();
    expect(second.body.next).toBeNull();
  });

  it("answers an entity without changes with an empty page, and an unknown kind with 404 naming the known ones", async () => {
    expect((await callApi<Page>(app, "GET", "/api/v1/entities/thing/nobody/changes")).body).toEqual({ changes: [], next: null });
    const unknown = await callApi(app, "GET", "/api/v1/entities/gizmo/h/changes");
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("entity_kind_not_found");
    expect(unknown.text).toContain("known kinds: thing, gadget, satellite-connection");
  });
});

describe("GET /api/v1/changes", () => {
  it("lists every change after a seq in outbox order, of the kinds asked for", async () => {
    const gadget = (await gadgets.mutate({ id: "g", actor: SYSTEM_ACTOR, apply: upsertThing("g", 1) })).change as StoredChange;
    await untilSettled(instance.pool, [gadget.seq]);
    const after = await callApi<Page>(app, "GET", `/api/v1/changes?since=${history[0]!.seq}`);
    expect(after.body.changes.map((change) => change.seq)).toEqual([history[1]!.seq, history[2]!.seq, runChangeSeq, gadget.seq]);
    const onlyGadgets = await callApi<Page>(app, "GET", `/api/v1/changes?since=${history[0]!.seq}&kind=gadget`);
    expect(onlyGadgets.body.changes.map((change) => change.seq)).toEqual([gadget.seq]);
    const paged = await callApi<Page>(app, "GET", "/api/v1/changes?limit=2");
    expect(paged.body.changes.map((change) => change.seq)).toEqual([history[0]!.seq, history[1]!.seq]);
    const rest = await callApi<Page>(app, "GET", `/api/v1/changes?limit=2&since=${paged.body.next}`);
    expect(rest.body.changes.map((change) => change.seq)).toEqual([history[2]!.seq, runChangeSeq]);
  });

  it("starts from an instant, and refuses a seq the outbox does not hold and an unknown kind", async () => {
    const from = await callApi<Page>(app, "GET", `/api/v1/changes?since=${encodeURIComponent(history[2]!.occurredAt)}&kind=thing`);
    expect(from.body.changes.map((change) => change.seq)).toEqual([history[2]!.seq]);
    const future = await callApi<Page>(app, "GET", `/api/v1/changes?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(future.body).toEqual({ changes: [], next: null });
    const gone = await callApi(app, "GET", "/api/v1/changes?since=999999");
    expect(gone.status).toBe(400);
    expect(gone.text).toContain("change_not_retained");
    const unknown = await callApi(app, "GET", "/api/v1/changes?kind=gizmo");
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("invalid_query");
  });

  it("lists the newest changes first, of the kinds asked, with what each caused, paging back with before", async () => {
    const latest = await callApi<Page>(app, "GET", "/api/v1/changes/latest?kind=thing&limit=2");
    expect(latest.status).toBe(200);
    expect(latest.body.changes.map((change) => change.seq)).toEqual([history[2]!.seq, history[1]!.seq]);
    expect(latest.body.changes[1]!.caused.runs.map((run) => run.id)).toEqual([runId]);
    const older = await callApi<Page>(app, "GET", `/api/v1/changes/latest?kind=thing&limit=2&before=${latest.body.next}`);
    expect(older.body.changes.map((change) => change.seq)).toEqual([history[0]!.seq]);
    expect((await callApi(app, "GET", "/api/v1/changes/latest?kind=gizmo")).status).toBe(400);
  });

  it("lists the changes one cause made, newest first", async () => {
    const runCause = { type: CAUSE_TYPES.automationRun, id: runId };
    const made = [];
    for (const value of [10, 11])
      made.push((await things.mutate({ id: "by-run", actor: { type: "automation", id: "a" }, cause: runCause, apply: upsertThing("by-run", value) })).change!);
    const page = await callApi<Page & { changes: Array<{ causedByRun: unknown }> }>(app, "GET", `/api/v1/changes/caused-by/automation-run/${runId}`);
    expect(page.body.changes.map((change) => change.seq)).toEqual([made[1]!.seq, made[0]!.seq]);
    // Each names the run behind it, with what opens its trace.
    const { rows } = await instance.pool.query<{ automation_id: string }>("SELECT automation_id FROM automation_runs WHERE id = $1", [runId]);
    expect(page.body.changes[0]!.causedByRun).toEqual({ id: runId, automationId: rows[0]!.automation_id, status: "succeeded" });
    const request = await callApi<Page & { changes: Array<{ causedByRun: unknown }> }>(app, "GET", "/api/v1/changes/caused-by/api-request/req-1");
    expect(request.body.changes.map((change) => change.seq)).toEqual([history[2]!.seq]);
    expect(request.body.changes[0]!.causedByRun).toBeNull();
  });
});

describe("causes", () => {
  it("records the API request that deleted a satellite as its change's cause, answered in X-Request-Id", async () => {
    const created = await callApi<{ id: string }>(app, "POST", "/api/v1/satellites", { name: "caused", region: "eu" });
    await satellites.service.markConnected({ satelliteId: created.body.id, sessionId: randomUUID() });
    const deleted = await app.request(`/api/v1/satellites/${created.body.id}`, { method: "DELETE", headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(deleted.status).toBe(204);
    const requestId = deleted.headers.get("x-request-id")!;
    const page = await callApi<Page>(app, "GET", `/api/v1/changes/caused-by/api-request/${requestId}`);
    expect(page.body.changes).toMatchObject([
      { kind: "satellite-connection", id: created.body.id, next: null, actor: { type: "token" }, cause: { type: "api-request", id: requestId } },
    ]);
  });
});

describe("the history reads", () => {
  it("are each served by an index, without sorting", async () => {
    // A few rows make any plan cheap: forbid sequential scans and sorts to see what the indexes can serve.
    const client = await instance.pool.connect();
    // (The links of a page are few and sorted after the lookup: sorting stays allowed for them.)
    const plan = async (sql: string, params: unknown[], sorts = false) => {
      await client.query(`BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = ${sorts ? "on" : "off"}`);
      const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
      await client.query("ROLLBACK");
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    };
    try {
      expect(await plan(CHANGES_OF_ENTITY, ["thing", "h", null, 10])).toContain("Index Scan using entity_changes_by_entity");
      expect(await plan(CHANGES_OF_CAUSE, ["automation-run", runId, null, 10])).toMatch(/Index Scan using entity_changes_by_cause/);
      expect(await plan(POSITION_OF_SEQ, [1])).toContain("entity_changes_pkey");
      expect(await plan(LATEST_CHANGES, [["thing"], null, 10])).toContain("Index Scan Backward using entity_changes_pkey");
      expect(await plan(FIRST_AT_OR_AFTER, [new Date()])).toContain("entity_changes_by_time");
      // Catching up (and GET /changes) without a kind filter: the router's own index.
      expect(await plan(PAGE_ALL, ["0", 0, 10])).toContain("Index Scan using entity_changes_by_xid");
      const kinds = await plan(PAGE_OF_KINDS, ["0", 0, 10, ["thing", "gadget"]]);
      expect(kinds).toContain("Index Scan using entity_changes_by_kind");
      expect(await plan(RUNS_OF_CHANGES, [[history[1]!.changeId]], true)).toContain("automation_runs_by_change");
      expect(await plan(SKIPS_OF_CHANGES, [[history[1]!.changeId]], true)).toContain("automation_skips_by_change");
      expect(await plan(CHANGES_OF_RUN, [runId, 10])).toContain("entity_changes_by_cause");
      expect(await plan(RUNS_BY_ID, [[runId]], true)).toContain("automation_runs_pkey");
      for (const sql of [CHANGES_OF_ENTITY, CHANGES_OF_CAUSE])
        expect(await plan(sql, sql === CHANGES_OF_ENTITY ? ["thing", "h", null, 10] : ["x", "y", null, 10])).not.toMatch(/Seq Scan|Sort/);
    } finally {
      client.release();
    }
  });
});
