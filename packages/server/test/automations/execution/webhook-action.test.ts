// A webhook step refuses redirects, says it is Vantage/<version>, and retries only what the outbound retry table calls transient.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import packageJson from "../../../package.json" with { type: "json" };
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";
import { waitFor } from "../../support/instance.ts";
import { header, useRunEngine } from "../../support/automations/run-engine.ts";

const engine = useRunEngine("webhook-action");
const { saveAutomation, loseHeartbeat, ended, onlyRun } = engine;

// A second origin (another port): where a redirect points.
let elsewhere: HttpReceiver;
beforeEach(async () => {
  elsewhere = await startHttpReceiver();
});
afterEach(async () => {
  await elsewhere?.close();
});

async function runOnce(actions: unknown[]) {
  const automation = await saveAutomation(actions);
  await loseHeartbeat();
  await waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");
  const run = await onlyRun(automation);
  return { run, steps: await listSteps(engine.core.pool, run.id) };
}

describe("webhook steps and redirects", () => {
  it("fails a step answered 302, naming where it pointed, and sends nothing there", async () => {
    const location = `${elsewhere.origin}/moved?to=here`;
    engine.receiver.answer({ status: 302, headers: { location } });

    const { run, steps } = await runOnce([
      { webhook: { url: `${engine.receiver.origin}/hook`, headers: { Authorization: "Bearer sk-live-123" }, retries: 2 } },
    ]);

    expect(run.status).toBe("failed");
    expect(steps).toMatchObject([{ path: "actions.0", status: "failed", attempts: 1, output: { status: 302 } }]);
    expect(steps[0]!.error).toContain(location);
    expect(engine.receiver.requests.map((request) => request.method)).toEqual(["POST"]);
    expect(elsewhere.requests).toEqual([]);
  });

  it("resolves a relative Location against the webhook URL in the failure", async () => {
    engine.receiver.answer({ status: 307, headers: { location: "/v2/hook" } });

    const { steps } = await runOnce([{ webhook: { url: `${engine.receiver.origin}/hook` } }]);

    expect(steps[0]!.error).toContain(`${engine.receiver.origin}/v2/hook`);
    expect(engine.receiver.requests).toHaveLength(1);
  });
});

describe("what every webhook request carries", () => {
  it("identifies itself as Vantage/<version of the core>", async () => {
    const { run } = await runOnce([{ webhook: { url: `${engine.receiver.origin}/hook`, method: "GET" } }]);

    expect(run.status).toBe("succeeded");
    expect(header(engine.receiver.requests[0]!.headers["user-agent"])).toBe(`Vantage/${packageJson.version}`);
  });
});

describe("which failures a webhook step retries", () => {
  it("retries a 408 and a 425 like a 503, and succeeds on the attempt after", async () => {
    engine.receiver.answerNext({ status: 408 }, { status: 425 }, { status: 503 });

    const { run, steps } = await runOnce([{ webhook: { url: `${engine.receiver.origin}/busy`, retries: 3 } }]);

    expect(run.status).toBe("succeeded");
    expect(steps).toMatchObject([{ status: "succeeded", attempts: 4 }]);
    expect(engine.receiver.requests).toHaveLength(4);
  });

  it("does not retry a 501, which the receiver will answer again", async () => {
    engine.receiver.answer({ status: 501 });

    const { run, steps } = await runOnce([{ webhook: { url: `${engine.receiver.origin}/unsupported`, retries: 3 } }]);

    expect(run.status).toBe("failed");
    expect(steps).toMatchObject([{ status: "failed", attempts: 1, error: expect.stringContaining("answered 501") }]);
    expect(engine.receiver.requests).toHaveLength(1);
  });
});
