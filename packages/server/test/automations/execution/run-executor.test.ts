// Runs on graphile-worker: signed webhooks sent once, secrets kept out of step records, retries, stop, resuming after a restart, the decided version.
import { describe, expect, it } from "vitest";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { signWebhook } from "../../../src/crypto/index.ts";
import { waitFor } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { header, useRunEngine } from "../../support/automations/run-engine.ts";

const SECRET = "whsec-run-executor";
const engine = useRunEngine("run-executor");
const { saveAutomation, loseHeartbeat, ended, onlyRun } = engine;

describe("executing automation runs on graphile-worker", () => {
  it("sends exactly one signed webhook with the trigger payload when a satellite loses its heartbeat", async () => {
    const automation = await saveAutomation([
      {
        webhook: {
          url: `${engine.receiver.origin}/hooks/{{ trigger.payload.satelliteId }}`,
          headers: { Authorization: "Bearer sk-live-123" },
          body: {
            text: "{{ trigger.payload.name }} in {{ trigger.payload.region }} is {{ trigger.payload.status }}",
            satellite: "{{ trigger.payload.satelliteId }}",
          },
          secret: SECRET,
        },
      },
    ]);
    const satelliteId = await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(engine.receiver.requests).toHaveLength(1);
    const request = engine.receiver.requests[0]!;
    expect(request.path).toBe(`/hooks/${satelliteId}`);
    expect(JSON.parse(request.body)).toEqual({ text: expect.stringMatching(/^edge-.+ in eu-west is offline$/), satellite: satelliteId });
    expect(header(request.headers["idempotency-key"])).toBe(`${run.id}:actions.0`);
    expect(header(request.headers.authorization)).toBe("Bearer sk-live-123");
    const signature = header(request.headers["x-vantage-signature"])!;
    const timestamp = Number(/^t=(\d+),/.exec(signature)![1]);
    expect(signature).toBe(signWebhook(SECRET, request.body, timestamp * 1000));
    expect(signature).not.toBe(signWebhook("another secret", request.body, timestamp * 1000));
  });

  it("keeps the webhook secret and credential headers out of the step record", async () => {
    const automation = await saveAutomation([
      {
        webhook: {
          url: `${engine.receiver.origin}/hook`,
          headers: { authorization: "Bearer sk-live-123", "X-Api-Key": "key-456", Cookie: "session=789", "X-Team": "ops" },
          secret: SECRET,
        },
      },
    ]);
    await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ path: "actions.0", kind: "webhook", status: "succeeded", attempts: 1, error: null, output: { status: 200, body: "ok" } });
    expect(steps[0]!.input).toMatchObject({
      secret: "<redacted>",
      headers: { authorization: "<redacted>", "X-Api-Key": "<redacted>", Cookie: "<redacted>", "X-Team": "ops", "Idempotency-Key": `${run.id}:actions.0` },
    });
    // Absent a body, the trigger payload is sent.
    expect((steps[0]!.input as { body: unknown }).body).toEqual(run.trigger.payload);
    const record = JSON.stringify(steps);
    expect(record).not.toContain(SECRET);
    expect(record).not.toContain("sk-live-123");
    expect(record).not.toMatch(/key-456|session=789/);
    // The receiver got them all, of course.
    expect(engine.receiver.requests[0]!.headers).toMatchObject({ "x-api-key": "key-456", cookie: "session=789" });
  });

  it("retries a webhook answered 500 twice and records one success after 3 attempts", async () => {
    engine.receiver.answerNext({ status: 500 }, { status: 500 });
    const automation = await saveAutomation([{ webhook: { url: `${engine.receiver.origin}/flaky`, retries: 3 } }]);
    await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(engine.receiver.requests).toHaveLength(3);
    expect(new Set(engine.receiver.requests.map((request) => header(request.headers["idempotency-key"])))).toEqual(new Set([`${run.id}:actions.0`]));
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps).toMatchObject([{ path: "actions.0", status: "succeeded", attempts: 3 }]);
  });

  it("fails the run on a 4xx without retrying, and does not start the next step", async () => {
    engine.receiver.answerNext({ status: 404 });
    const automation = await saveAutomation([
      { webhook: { url: `${engine.receiver.origin}/missing` } },
      { webhook: { url: `${engine.receiver.origin}/never` } },
    ]);
    await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    expect((await onlyRun(automation)).status).toBe("failed");
    expect(engine.receiver.requests.map((request) => request.path)).toEqual(["/missing"]);
    const { rows } = await engine.core.pool.query<{ error: string }>("SELECT error FROM automation_runs WHERE automation_id = $1", [automation.id]);
    expect(rows[0]!.error).toContain("step actions.0 failed");
  });

  it("goes on past failed steps marked continueOnError, and ends succeeded at a stop with its reason", async () => {
    engine.receiver.answerNext({ status: 404 }, { status: 404 });
    const automation = await saveAutomation([
      { webhook: { url: `${engine.receiver.origin}/missing` }, continueOnError: true },
      { parallel: { branches: [[{ webhook: { url: `${engine.receiver.origin}/gone` } }]] }, continueOnError: true },
      { log: { message: "{{ trigger.payload.satelliteId }} lost" } },
      { stop: { reason: "{{ trigger.payload.region }} handled" } },
      { webhook: { url: `${engine.receiver.origin}/after-stop` } },
    ]);
    await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    const { rows } = await engine.core.pool.query<{ stop_reason: string }>("SELECT stop_reason FROM automation_runs WHERE id = $1", [run.id]);
    expect(rows[0]!.stop_reason).toBe("eu-west handled");
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps.map((step) => [step.path, step.status, step.error])).toEqual([
      ["actions.0", "failed", expect.stringContaining("answered 404")],
      ["actions.1", "failed", expect.stringMatching(/^step actions\.1\.parallel\.branches\.0\.0 failed: .* answered 404$/)],
      ["actions.1.parallel.branches.0.0", "failed", expect.stringContaining("answered 404")],
      ["actions.2", "succeeded", null],
      ["actions.3", "succeeded", null],
    ]);
    expect(engine.receiver.requests.map((request) => request.path)).toEqual(["/missing", "/gone"]);
  });

  it("notifies through a channel named in the action, retrying an undeliverable notification", async () => {
    await engine.notifications.channels.create({ name: "ops-hook", type: "webhook", config: { url: `${engine.receiver.origin}/notify` } });
    engine.receiver.answerNext({ status: 503 });
    const automation = await saveAutomation([
      { notify: { channel: "ops-hook", title: "Lost {{ trigger.payload.name }}", message: "{{ trigger.payload.satelliteId }} stopped answering" } },
    ]);
    const satelliteId = await loseHeartbeat();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(engine.receiver.requests).toHaveLength(2);
    expect(engine.receiver.requests[1]!.body).toContain(`${satelliteId} stopped answering`);
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps).toMatchObject([
      { path: "actions.0", kind: "notify", status: "succeeded", attempts: 2, input: { channel: "ops-hook", message: `${satelliteId} stopped answering` } },
    ]);
  });

  it("resumes a run after a worker restart during a delay, each step's request arriving exactly once", async () => {
    const automation = await saveAutomation([
      { webhook: { url: `${engine.receiver.origin}/before` } },
      { delay: { duration: "1s" } },
      { webhook: { url: `${engine.receiver.origin}/after` } },
    ]);
    await loseHeartbeat();
    await waitFor(
      () => engine.events.some((event) => event.type === "step" && event.path === "actions.1" && event.status === "waiting"),
      engine.stored.subscribe,
      10_000,
      "the delay to start",
    );

    await engine.workers[0]!.stop();
    const run = await onlyRun(automation);
    expect(run.status).toBe("running");
    expect((await listSteps(engine.core.pool, run.id)).map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "waiting"],
    ]);
    expect(engine.receiver.requests.map((request) => request.path)).toEqual(["/before"]);

    await engine.startWorker();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end on the new worker");
    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(engine.receiver.requests.map((request) => [request.path, header(request.headers["idempotency-key"])])).toEqual([
      ["/before", `${run.id}:actions.0`],
      ["/after", `${run.id}:actions.2`],
    ]);
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps.map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "succeeded"],
      ["actions.2", "succeeded"],
    ]);
    expect(Date.parse(steps[1]!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(steps[1]!.dueAt!));
  });

  it("executes the definition version the run was decided on, even when the automation is replaced meanwhile", async () => {
    const v1 = [{ delay: { duration: "200ms" } }, { webhook: { url: `${engine.receiver.origin}/v1`, secret: SECRET } }];
    const automation = await saveAutomation(v1);
    await loseHeartbeat();
    await waitFor(() => engine.reached("actions.0", "waiting") !== undefined, engine.stored.subscribe, 10_000, "the delay to start");
    const v2 = satelliteCompiler().compiler.compile({ name: automation.name, triggers: automation.triggers, actions: [{ log: { message: "v2" } }] });
    if (!v2.ok) throw new Error(JSON.stringify(v2.errors));
    // A fresh process resumes the run: nothing compiled is cached.
    await engine.workers[0]!.stop();
    await engine.routing.store.replace(automation.id, v2.compiled);
    await engine.startWorker();
    await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");

    const run = await onlyRun(automation);
    expect([run.status, run.automationVersion]).toEqual(["succeeded", 1]);
    expect(engine.receiver.requests.map((request) => request.path)).toEqual(["/v1"]);
    const request = engine.receiver.requests[0]!;
    const timestamp = Number(/^t=(\d+),/.exec(header(request.headers["x-vantage-signature"])!)![1]);
    expect(header(request.headers["x-vantage-signature"])).toBe(signWebhook(SECRET, request.body, timestamp * 1000));
  });
});
