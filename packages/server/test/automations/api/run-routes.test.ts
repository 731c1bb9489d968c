// The runs API: manual runs enqueued through admission, traces with masked inputs, cancelling, and listing runs and skips.
import { randomBytes } from "node:crypto";
import { CAUSE_TYPES } from "@vantage/protocol";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTrigger } from "../../../src/automations/index.ts";
import { createAutomationRoutes } from "../../../src/automations/api/automation-routes.ts";
import { createRunExecutor } from "../../../src/automations/execution/run-executor.ts";
import type { AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import type { RunView } from "../../../src/automations/runs/automation-runs.ts";
import type { StepView } from "../../../src/automations/runs/run-records.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import { startHttpReceiver, type HttpReceiver } from "../../support/network/receivers.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { CREATE_THINGS, defineThings, upsertThing } from "../../support/entities/things.ts";

const options = satelliteCompiler();
// A second kind of payload, for automations listening to triggers whose payloads differ.
options.triggers.register(
  defineTrigger({
    id: "test.ping",
    displayName: "Ping",
    description: "A test trigger.",
    payloadSchema: z.object({ seq: z.number() }),
    contextKey: () => "ping",
  }),
);
const box = createSecretBox(randomBytes(32));
let instance: TestInstance;
let app: Hono;
let receiver: HttpReceiver;
let notifications: NotificationService;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "run-routes");
  receiver = await startHttpReceiver();
  notifications = new NotificationService({ pool: instance.pool, box, senders: createNotificationSenders() });
  app = await createApiApp(instance.pool, { "/automations": createAutomationRoutes({ pool: instance.pool, box, notifications, ...options }) });
});

afterAll(async () => {
  await receiver?.close();
  await instance?.stop();
});

const call = <Body = Record<string, unknown>>(method: string, path: string, body?: unknown) => callApi<Body>(app, method, `/api/v1${path}`, body);

let named = 0;
async function createAutomation(extra: Record<string, unknown> = {}): Promise<AutomationView> {
  named += 1;
  const definition = {
    name: `manual-${named}`,
    triggers: [{ event: "satellite.heartbeat_lost" }],
    actions: [
      {
        webhook: {
          url: `${receiver.origin}/hook`,
          headers: { Authorization: "Bearer sk-secret" },
          body: { who: "{{ trigger.payload.name }}" },
          secret: "whsec-1",
        },
      },
    ],
    ...extra,
  };
  const answer = await call<AutomationView>("POST", "/automations", definition);
  expect(answer.status).toBe(201);
  return answer.body;
}

/** A payload the satellite triggers could deliver. */
const satellitePayload = (name: string) => ({ satelliteId: "sat-1", name, region: "eu-west", status: "offline", lastSeenAt: null });

const jobs = async () => (await instance.pool.query<{ key: string }>("SELECT key FROM graphile_worker.jobs ORDER BY key")).rows.map((row) => row.key);

describe("the runs API of an automation", () => {
  it("starts a manual run by enqueueing it, never executing it inside the request", async () => {
    const automation = await createAutomation();
    const answer = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, { payload: satellitePayload("operator") });
    expect(answer.status).toBe(202);
    expect(answer.body.run).toMatchObject({
      status: "pending",
      triggerId: "manual",
      triggerEvent: "manual",
      changeId: null,
      trigger: { event: "manual", payload: satellitePayload("operator"), change: null },
    });
    expect(receiver.requests).toHaveLength(0);
    expect(await jobs()).toContain(answer.body.run.id);
  });

  it("lists each automation with its newest run, and null before its first", async () => {
    const automation = await createAutomation({ mode: "parallel" });
    type Listed = AutomationView & { lastRun: { id: string; status: string; createdAt: string; finishedAt: string | null } | null };
    const listed = async () => (await call<{ automations: Listed[] }>("GET", "/automations")).body.automations.find((item) => item.id === automation.id)!;
    expect((await listed()).lastRun).toBeNull();
    const first = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, { payload: satellitePayload("first") });
    expect((await listed()).lastRun).toEqual({ id: first.body.run.id, status: "pending", createdAt: first.body.run.createdAt, finishedAt: null });
    const second = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, { payload: satellitePayload("second") });
    expect((await listed()).lastRun?.id).toBe(second.body.run.id);
  });

  it("accepts a manual run without a body, and refuses an unknown field", async () => {
    const automation = await createAutomation({ mode: "parallel" });
    const response = await app.request(`/api/v1/automations/${automation.id}/run`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token-0123456789" },
    });
    expect(response.status).toBe(202);
    const refused = await call("POST", `/automations/${automation.id}/run`, { payload: {}, extra: 1 });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { details: { issues: [{ path: "extra" }] } } });
  });

  it("refuses a manual payload its trigger could never deliver, with each path, and starts nothing", async () => {
    const automation = await createAutomation({ mode: "parallel" });
    const refused = await call("POST", `/automations/${automation.id}/run`, { payload: { name: 42, region: "eu-west" } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "invalid_input" } });
    const issues = (refused.body.error as { details: { issues: Array<{ path: string; message: string }> } }).details.issues;
    expect(issues.map((issue) => issue.path).sort()).toEqual(["payload.lastSeenAt", "payload.name", "payload.satelliteId", "payload.status"]);
    expect((await call<{ runs: RunView[] }>("GET", `/automations/${automation.id}/runs`)).body.runs).toEqual([]);
  });

  it("names the event in each issue when the automation listens to several whose payloads differ", async () => {
    const automation = await createAutomation({ mode: "parallel", triggers: [{ event: "satellite.heartbeat_lost" }, { event: "test.ping" }] });
    const refused = await call("POST", `/automations/${automation.id}/run`, { payload: { name: "x" } });
    expect(refused.status).toBe(400);
    const issues = (refused.body.error as { details: { issues: Array<{ path: string; message: string }> } }).details.issues;
    expect(issues).toContainEqual({ path: "payload.satelliteId", message: expect.stringContaining("(as a payload of satellite.heartbeat_lost)") });
    expect(issues).toContainEqual({ path: "payload.seq", message: expect.stringContaining("(as a payload of test.ping)") });
    // A payload of either trigger starts the run.
    expect((await call("POST", `/automations/${automation.id}/run`, { payload: { seq: 1 } })).status).toBe(202);
  });

  it("answers 409 with the reason when the mode does not let a manual run start, and records the skip", async () => {
    const automation = await createAutomation({ mode: "single" });
    expect((await call("POST", `/automations/${automation.id}/run`, {})).status).toBe(202);
    const busy = await call("POST", `/automations/${automation.id}/run`, {});
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: { code: "run_busy" } });
    const skips = await call<{ skips: Array<{ reason: string }> }>("GET", `/automations/${automation.id}/skips`);
    expect(skips.body.skips.map((skip) => skip.reason)).toEqual(["busy"]);
  });

  it("shows a run's trace: trigger, verdicts and each step with its input masked, its output and attempts", async () => {
    const automation = await createAutomation();
    const started = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, { payload: satellitePayload("tracer") });
    const executor = createRunExecutor({ pool: instance.pool, ...options, entities: instance.entities, notifications, box, logger: silentLogger() });
    await executor.execute(started.body.run.id);

    const trace = await call<{ run: RunView; steps: StepView[]; changes: unknown[] }>("GET", `/automations/${automation.id}/runs/${started.body.run.id}`);
    expect(trace.status).toBe(200);
    expect(trace.body.run).toMatchObject({ id: started.body.run.id, status: "succeeded", verdicts: [], trigger: { payload: { name: "tracer" } } });
    expect(trace.body.steps).toHaveLength(1);
    expect(trace.body.steps[0]).toMatchObject({ path: "actions.0", kind: "webhook", status: "succeeded", attempts: 1 });
    expect(JSON.stringify(trace.body.steps[0]!.input)).not.toContain("sk-secret");
    expect(JSON.stringify(trace.body.steps[0]!.input)).toContain("tracer");
    expect(JSON.parse(receiver.requests.at(-1)!.body)).toEqual({ who: "tracer" });
    expect(trace.body.changes).toEqual([]);

    // A change a step made (its cause is the run) shows in the trace.
    await instance.pool.query(CREATE_THINGS);
    const things = defineThings(instance.entities, instance.pool);
    const cause = { type: CAUSE_TYPES.automationRun, id: started.body.run.id };
    const { change } = await things.mutate({ id: "run-made", actor: { type: "automation", id: automation.id }, cause, apply: upsertThing("run-made", 1) });
    const after = await call<{ changes: unknown[] }>("GET", `/automations/${automation.id}/runs/${started.body.run.id}`);
    expect(after.body.changes).toEqual([
      { seq: change!.seq, changeId: change!.changeId, kind: "thing", id: "run-made", changedFields: change!.changedFields, occurredAt: change!.occurredAt },
    ]);
  });

  it("cancels an active run once, then answers 409; an unknown run is a 404", async () => {
    const automation = await createAutomation();
    const { body } = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, {});
    const cancelled = await call<{ run: RunView }>("POST", `/automations/${automation.id}/runs/${body.run.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.run).toMatchObject({ status: "cancelled", error: "cancelled through the API" });
    expect(cancelled.body.run.finishedAt).not.toBeNull();
    expect(await jobs()).not.toContain(body.run.id);

    const again = await call("POST", `/automations/${automation.id}/runs/${body.run.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "run_not_active" } });
    expect((await call("GET", `/automations/${automation.id}/runs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await call("GET", `/automations/${automation.id}/runs/not-a-uuid`)).status).toBe(404);
    const other = await createAutomation();
    expect((await call("GET", `/automations/${other.id}/runs/${body.run.id}`)).status).toBe(404);
  });

  it("marks a step that waited when its run was cancelled as cancelled, so no trace shows it waiting forever", async () => {
    const automation = await createAutomation({
      actions: [{ log: { message: "first" } }, { parallel: { branches: [[{ delay: { duration: "1h" } }], [{ delay: { duration: "2h" } }]] } }],
    });
    const started = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, {});
    const executor = createRunExecutor({ pool: instance.pool, ...options, entities: instance.entities, notifications, box, logger: silentLogger() });
    await executor.execute(started.body.run.id);
    const trace = () => call<{ run: RunView; steps: StepView[] }>("GET", `/automations/${automation.id}/runs/${started.body.run.id}`);
    // Branches start side by side: compare in path order.
    const byPath = (steps: StepView[]) => steps.toSorted((a, b) => a.path.localeCompare(b.path));
    expect(byPath((await trace()).body.steps).map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "running"],
      ["actions.1.parallel.branches.0.0", "waiting"],
      ["actions.1.parallel.branches.1.0", "waiting"],
    ]);

    expect((await call("POST", `/automations/${automation.id}/runs/${started.body.run.id}/cancel`)).status).toBe(200);
    const { body } = await trace();
    expect(body.run.status).toBe("cancelled");
    expect(byPath(body.steps).map((step) => [step.path, step.status, step.finishedAt !== null])).toEqual([
      ["actions.0", "succeeded", true],
      ["actions.1", "cancelled", true],
      ["actions.1.parallel.branches.0.0", "cancelled", true],
      ["actions.1.parallel.branches.1.0", "cancelled", true],
    ]);
  });

  it("counts a manual run in the context it names under concurrency: context, and refuses a context elsewhere", async () => {
    const automation = await createAutomation({ mode: "single", concurrency: "context" });
    const first = await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, { contextKey: "sat-a" });
    expect(first.status).toBe(202);
    expect(first.body.run.contextKey).toBe("sat-a");
    expect((await call("POST", `/automations/${automation.id}/run`, { contextKey: "sat-b" })).status).toBe(202);
    expect((await call("POST", `/automations/${automation.id}/run`, { contextKey: "sat-a" })).status).toBe(409);

    const plain = await createAutomation();
    const refused = await call("POST", `/automations/${plain.id}/run`, { contextKey: "sat-a" });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { details: { issues: [{ path: "contextKey" }] } } });
  });

  it("lists runs newest first, a page at a time, filtered by status; skips by reason", async () => {
    const automation = await createAutomation({ mode: "parallel", maxRuns: 3 });
    const started: string[] = [];
    const start = async () => started.push((await call<{ run: RunView }>("POST", `/automations/${automation.id}/run`, {})).body.run.id);
    const cancel = (index: number) => call("POST", `/automations/${automation.id}/runs/${started[index]}/cancel`);
    for (let index = 0; index < 3; index++) await start();
    expect((await call("POST", `/automations/${automation.id}/run`, {})).status).toBe(409); // a max_runs skip
    await cancel(1);
    await start();
    await cancel(3);
    await start();

    type Page = { runs: RunView[]; next: string | null };
    const pages: string[][] = [];
    let before: string | null = null;
    do {
      const answer: { status: number; body: Page } = await call<Page>("GET", `/automations/${automation.id}/runs?limit=2${before ? `&before=${before}` : ""}`);
      expect(answer.status).toBe(200);
      pages.push(answer.body.runs.map((run) => run.id));
      before = answer.body.next;
    } while (before);
    expect(pages).toEqual([[started[4], started[3]], [started[2], started[1]], [started[0]]]);
    const cancelled = await call<Page>("GET", `/automations/${automation.id}/runs?status=cancelled`);
    expect(cancelled.body).toEqual({ runs: [expect.objectContaining({ id: started[3] }), expect.objectContaining({ id: started[1] })], next: null });
    const skips = await call<{ skips: Array<{ reason: string }> }>("GET", `/automations/${automation.id}/skips?reason=max_runs`);
    expect(skips.body.skips.map((skip) => skip.reason)).toEqual(["max_runs"]);
    expect((await call<{ skips: unknown[] }>("GET", `/automations/${automation.id}/skips?reason=busy`)).body.skips).toEqual([]);

    const refused = await call("GET", `/automations/${automation.id}/runs?status=sleeping&sort=asc`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "invalid_query", details: { issues: [{ path: "status" }, { path: "sort" }] } } });
  });
});
