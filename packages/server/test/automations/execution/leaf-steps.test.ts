// Leaf steps run alone through the step harness: no database, no job queue, a real loopback
// HTTP receiver where a step sends a request.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultRetryDelayMs } from "../../../src/automations/execution/actions/step.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";
import { runStep } from "../../support/automations/step-harness.ts";

describe("a leaf step run alone", () => {
  let receiver: HttpReceiver;
  beforeEach(async () => {
    receiver = await startHttpReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("logs the message rendered from the trigger payload, once", async () => {
    const run = await runStep({ log: { message: "{{ trigger.payload.name }} in {{ trigger.payload.region }} is gone" } });
    expect(run.outcome).toEqual({ status: "succeeded" });
    expect(run.input).toEqual({ message: "edge-1 in eu-west is gone" });
    expect(run.attempts).toBe(1);
    expect(run.logs.filter((line) => line.msg === "edge-1 in eu-west is gone")).toHaveLength(1);
  });

  it("retries a webhook answered 503, pausing after each failed attempt, and succeeds on the third", async () => {
    receiver.answerNext({ status: 503 }, { status: 503 });
    const run = await runStep({ webhook: { url: `${receiver.origin}/hook`, retries: 3 } });
    expect(run.outcome).toMatchObject({ status: "succeeded", output: { status: 200 } });
    expect(run.attempts).toBe(3);
    expect(run.backoffs).toEqual([1, 2]);
    expect(receiver.requests.map((request) => request.headers["idempotency-key"])).toEqual(Array(3).fill("00000000-0000-4000-8000-000000000001:0"));
  });

  it("pauses about 0.5 s, 1 s, 2 s … 30 s between attempts, never less than half of that", () => {
    const ceilings = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    ceilings.forEach((ceiling, index) => {
      const pauses = Array.from({ length: 200 }, () => defaultRetryDelayMs(index + 1));
      expect(Math.min(...pauses), `attempt ${index + 1}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...pauses), `attempt ${index + 1}`).toBeLessThanOrEqual(ceiling);
      expect(Math.max(...pauses) - Math.min(...pauses), `attempt ${index + 1}`).toBeGreaterThan(0);
    });
  });

  it("does not retry a webhook answered 404", async () => {
    receiver.answer({ status: 404, body: "no such hook" });
    const run = await runStep({ webhook: { url: `${receiver.origin}/hook`, retries: 3 } });
    expect(run.outcome).toMatchObject({ status: "failed" });
    expect(run.attempts).toBe(1);
    expect(run.backoffs).toEqual([]);
  });
});
