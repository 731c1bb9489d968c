import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AutomationView,
  type AutomationWorker,
  createAutomationWorker,
  createRunExecutor,
  listRuns,
  listSteps,
  type RunEvent,
  type RunView,
} from "../../src/automations/index.ts";
import { createSecretBox, signWebhook } from "../../src/crypto/index.ts";
import { silentLogger } from "../../src/log.ts";
import { createNotificationSenders, NotificationService } from "../../src/notifications/index.ts";
import { startHttpReceiver, type HttpReceiver } from "../notifications/receivers.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createSignal, type TestInstance, waitFor } from "../support/instance.ts";
import { type AutomationRouting, startAutomationRouting } from "./automation-routing.ts";
import { satelliteCompileOptions } from "./compile-options.ts";

const SECRET = "whsec-run-executor";
const options = satelliteCompileOptions();

let db: TestDatabase;
let routing: AutomationRouting;
let core: TestInstance;
let receiver: HttpReceiver;
let workers: AutomationWorker[];
let notifications: NotificationService;
let events: RunEvent[];
const stored = createSignal();
const reloaded = createSignal();

beforeEach(async () => {
  events = [];
  workers = [];
  db = await createTestDatabase();
  routing = await startAutomationRouting(db.url, "run-executor", { onReload: () => reloaded.emit() });
  ({ core } = routing);
  receiver = await startHttpReceiver();
  await startWorker();
});

afterEach(async () => {
  for (const worker of workers) await worker.stop();
  await receiver?.close();
  await routing?.stop();
});

/** A worker and executor as a fresh process would build them; retries do not pause. */
async function startWorker(): Promise<AutomationWorker> {
  notifications = new NotificationService({ pool: core.pool, box: createSecretBox(randomBytes(32)), senders: createNotificationSenders({ timeoutMs: 2_000 }) });
  const executor = createRunExecutor({
    pool: core.pool,
    ...options,
    entities: core.entities,
    notifications,
    logger: silentLogger(),
    retryDelayMs: () => 0,
    onEvent: (event) => {
      events.push(event);
      stored.emit();
    },
  });
  const worker = createAutomationWorker({ connectionString: db.url, pool: core.pool, instanceId: "run-executor", executor, logger: silentLogger(), concurrency: 2, pollIntervalMs: 50 });
  await worker.start();
  workers.push(worker);
  return worker;
}


const saveAutomation = (actions: unknown[]) => routing.saveAutomation(actions);
const loseHeartbeat = () => routing.loseHeartbeat();

const ended = (status?: string) => events.some((event) => event.type === "run" && (status === undefined || event.status === status));

async function onlyRun(automation: AutomationView): Promise<RunView> {
  const runs = await listRuns(core.pool, automation.id);
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

describe("executing automation runs on graphile-worker", () => {
  it("sends exactly one signed webhook with the trigger payload when a satellite loses its heartbeat", async () => {
    const automation = await saveAutomation([
      {
        webhook: {
          url: `${receiver.origin}/hooks/{{ trigger.payload.satelliteId }}`,
          headers: { Authorization: "Bearer sk-live-123" },
          body: { text: "{{ trigger.payload.name }} in {{ trigger.payload.region }} is {{ trigger.payload.status }}", satellite: "{{ trigger.payload.satelliteId }}" },
          secret: SECRET,
        },
      },
    ]);
    const satelliteId = await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.path).toBe(`/hooks/${satelliteId}`);
    expect(JSON.parse(request.body)).toEqual({ text: expect.stringMatching(/^edge-.+ in eu-west is offline$/), satellite: satelliteId });
    expect(header(request.headers["idempotency-key"])).toBe(`${run.id}:actions.0`);
    expect(header(request.headers.authorization)).toBe("Bearer sk-live-123");
    const signature = header(request.headers["x-vantage-signature"])!;
    const timestamp = Number(/^t=(\d+),/.exec(signature)![1]);
    expect(signature).toBe(signWebhook(SECRET, request.body, timestamp * 1000));
    expect(signature).not.toBe(signWebhook("another secret", request.body, timestamp * 1000));
  });

  it("keeps the webhook secret and the Authorization header out of the step record", async () => {
    const automation = await saveAutomation([{ webhook: { url: `${receiver.origin}/hook`, headers: { authorization: "Bearer sk-live-123", "X-Team": "ops" }, secret: SECRET } }]);
    await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    const steps = await listSteps(core.pool, run.id);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ path: "actions.0", kind: "webhook", status: "succeeded", attempts: 1, error: null, output: { status: 200, body: "ok" } });
    expect(steps[0]!.input).toMatchObject({ secret: "<redacted>", headers: { authorization: "<redacted>", "X-Team": "ops", "Idempotency-Key": `${run.id}:actions.0` } });
    // Absent a body, the trigger payload is sent.
    expect((steps[0]!.input as { body: unknown }).body).toEqual(run.trigger.payload);
    const record = JSON.stringify(steps);
    expect(record).not.toContain(SECRET);
    expect(record).not.toContain("sk-live-123");
  });

  it("retries a webhook answered 500 twice and records one success after 3 attempts", async () => {
    receiver.answerNext({ status: 500 }, { status: 500 });
    const automation = await saveAutomation([{ webhook: { url: `${receiver.origin}/flaky`, retries: 3 } }]);
    await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((request) => header(request.headers["idempotency-key"])))).toEqual(new Set([`${run.id}:actions.0`]));
    const steps = await listSteps(core.pool, run.id);
    expect(steps).toMatchObject([{ path: "actions.0", status: "succeeded", attempts: 3 }]);
  });

  it("fails the run on a 4xx without retrying, and does not start the next step", async () => {
    receiver.answerNext({ status: 404 });
    const automation = await saveAutomation([{ webhook: { url: `${receiver.origin}/missing` } }, { webhook: { url: `${receiver.origin}/never` } }]);
    await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    expect((await onlyRun(automation)).status).toBe("failed");
    expect(receiver.requests.map((request) => request.path)).toEqual(["/missing"]);
    const { rows } = await core.pool.query<{ error: string }>("SELECT error FROM automation_runs WHERE automation_id = $1", [automation.id]);
    expect(rows[0]!.error).toContain("step actions.0 failed");
  });

  it("goes on past failed steps marked continueOnError, and ends succeeded at a stop with its reason", async () => {
    receiver.answerNext({ status: 404 });
    const automation = await saveAutomation([
      { webhook: { url: `${receiver.origin}/missing` }, continueOnError: true },
      { parallel: { branches: [[{ log: { message: "a" } }]] }, continueOnError: true },
      { log: { message: "{{ trigger.payload.satelliteId }} lost" } },
      { stop: { reason: "{{ trigger.payload.region }} handled" } },
      { webhook: { url: `${receiver.origin}/after-stop` } },
    ]);
    await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    const { rows } = await core.pool.query<{ stop_reason: string }>("SELECT stop_reason FROM automation_runs WHERE id = $1", [run.id]);
    expect(rows[0]!.stop_reason).toBe("eu-west handled");
    const steps = await listSteps(core.pool, run.id);
    expect(steps.map((step) => [step.path, step.status, step.error])).toEqual([
      ["actions.0", "failed", expect.stringContaining("answered 404")],
      ["actions.1", "failed", "the parallel action is not supported yet"],
      ["actions.2", "succeeded", null],
      ["actions.3", "succeeded", null],
    ]);
    expect(receiver.requests.map((request) => request.path)).toEqual(["/missing"]);
  });

  it("notifies through a channel named in the action, retrying an undeliverable notification", async () => {
    await notifications.channels.create({ name: "ops-hook", type: "webhook", config: { url: `${receiver.origin}/notify` } });
    receiver.answerNext({ status: 503 });
    const automation = await saveAutomation([{ notify: { channel: "ops-hook", title: "Lost {{ trigger.payload.name }}", message: "{{ trigger.payload.satelliteId }} stopped answering" } }]);
    const satelliteId = await loseHeartbeat();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.body).toContain(`${satelliteId} stopped answering`);
    const steps = await listSteps(core.pool, run.id);
    expect(steps).toMatchObject([{ path: "actions.0", kind: "notify", status: "succeeded", attempts: 2, input: { channel: "ops-hook", message: `${satelliteId} stopped answering` } }]);
  });

  it("resumes a run after a worker restart during a delay, each step's request arriving exactly once", async () => {
    const automation = await saveAutomation([{ webhook: { url: `${receiver.origin}/before` } }, { delay: { duration: "1s" } }, { webhook: { url: `${receiver.origin}/after` } }]);
    await loseHeartbeat();
    await waitFor(() => events.some((event) => event.type === "step" && event.path === "actions.1" && event.status === "waiting"), stored.subscribe, 10_000, "the delay to start");

    await workers[0]!.stop();
    const run = await onlyRun(automation);
    expect(run.status).toBe("running");
    expect((await listSteps(core.pool, run.id)).map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "waiting"],
    ]);
    expect(receiver.requests.map((request) => request.path)).toEqual(["/before"]);

    await startWorker();
    await waitFor(() => ended(), stored.subscribe, 10_000, "the run to end on the new worker");
    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(receiver.requests.map((request) => [request.path, header(request.headers["idempotency-key"])])).toEqual([
      ["/before", `${run.id}:actions.0`],
      ["/after", `${run.id}:actions.2`],
    ]);
    const steps = await listSteps(core.pool, run.id);
    expect(steps.map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "succeeded"],
      ["actions.2", "succeeded"],
    ]);
    expect(Date.parse(steps[1]!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(steps[1]!.dueAt!));
  });
});
