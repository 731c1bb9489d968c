// A notify step delivers with its run and step as the Idempotency-Key (the same on every retry) and with its severity.
import { describe, expect, it } from "vitest";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { waitFor } from "../../support/instance.ts";
import { header, useRunEngine } from "../../support/automations/run-engine.ts";

const engine = useRunEngine("notify-action");
const { saveAutomation, loseHeartbeat, ended, onlyRun } = engine;

async function webhookChannel(name: string) {
  await engine.notifications.channels.create({ name, type: "webhook", config: { url: `${engine.receiver.origin}/${name}` } });
}

async function slackChannel(name: string) {
  await engine.notifications.channels.create({ name, type: "slack", config: { webhookUrl: `${engine.receiver.origin}/services/${name}` } });
}

async function runOnce(actions: unknown[]) {
  const automation = await saveAutomation(actions);
  await loseHeartbeat();
  await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");
  return onlyRun(automation);
}

const bodies = () => engine.receiver.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>);

describe("Idempotency-Key on notification webhooks", () => {
  it("sends the run id and step path as the key, the same on every retry of the step", async () => {
    await webhookChannel("ops-hook");
    engine.receiver.answerNext({ status: 503 }, { status: 502 });

    const run = await runOnce([{ log: { message: "first" } }, { notify: { channel: "ops-hook", message: "lost" } }]);

    expect(run.status).toBe("succeeded");
    expect(engine.receiver.requests.map((request) => header(request.headers["idempotency-key"]))).toEqual([
      `${run.id}:actions.1`,
      `${run.id}:actions.1`,
      `${run.id}:actions.1`,
    ]);
  });

  it("gives two notify steps of one run different keys", async () => {
    await webhookChannel("twice");

    const run = await runOnce([
      { parallel: { branches: [[{ notify: { channel: "twice", message: "a" } }], [{ notify: { channel: "twice", message: "b" } }]] } },
    ]);

    const keys = engine.receiver.requests.map((request) => header(request.headers["idempotency-key"])).sort();
    expect(keys).toEqual([`${run.id}:actions.0.parallel.branches.0.0`, `${run.id}:actions.0.parallel.branches.1.0`]);
  });
});

describe("severity of a notify step", () => {
  it("sends the severity the step sets, in the webhook body and the chat headline", async () => {
    await webhookChannel("sev-hook");
    await slackChannel("sev-slack");

    const run = await runOnce([
      { notify: { channel: "sev-hook", title: "Disk full", message: "m", severity: "critical" } },
      { notify: { channel: "sev-slack", title: "Disk full", message: "m", severity: "info" } },
    ]);

    expect(run.status).toBe("succeeded");
    expect(bodies()[0]).toMatchObject({ title: "Disk full", severity: "critical" });
    expect(bodies()[1]).toEqual({ text: "*[INFO] Disk full*\nm" });
    const steps = await listSteps(engine.core.pool, run.id);
    expect(steps.map((step) => step.input)).toMatchObject([{ severity: "critical" }, { severity: "info" }]);
  });

  it("sends warning when the step sets none", async () => {
    await webhookChannel("default-sev");

    await runOnce([{ notify: { channel: "default-sev", message: "m" } }]);

    expect(bodies()[0]).toMatchObject({ severity: "warning" });
  });

  it("refuses a severity that is not info, warning or critical when the definition is saved", async () => {
    await webhookChannel("bad-sev");
    await expect(saveAutomation([{ notify: { channel: "bad-sev", message: "m", severity: "fatal" } }])).rejects.toThrow(
      /actions\.0\.notify\.severity.*info.*warning.*critical/,
    );
  });
});
