// The agent runs http, tcp, dns and tls by default, through the probe library, identifying
// itself as Vantage/<agent version>; a config it cannot read is that run's error with zod's
// words, through the real scheduler, and the agent goes on.
import type { Assignment, ResultFrame } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpReceiver, startHttpReceiver } from "../../../server/test/support/network/receivers.ts";
import { systemClock } from "../../src/clock.ts";
import { defaultProbeRegistry } from "../../src/probes/default-registry.ts";
import { createProbeRegistry } from "../../src/probes/registry.ts";
import { registerStandardProbes, standardProbe } from "../../src/probes/standard-probes.ts";
import { createScheduler } from "../../src/scheduler.ts";
import { AGENT_VERSION } from "../../src/version.ts";
import { captureLogs } from "../support/capture-logs.ts";

let target: HttpReceiver;
beforeAll(async () => {
  target = await startHttpReceiver();
});
afterAll(async () => {
  await target?.close();
});

const never = new AbortController().signal;
const httpCheck = (config: Record<string, unknown>): Assignment => ({ checkId: "c1", name: "c1", type: "http", intervalSeconds: 60, timeoutMs: 5_000, config });

describe("the standard probes", () => {
  it("are what an agent announces by default", () => {
    expect(defaultProbeRegistry.types()).toEqual(["dns", "http", "tcp", "tls"]);
  });

  it("run an assignment's probe spec, with the schema's defaults, as Vantage/<agent version>", async () => {
    target.answer({ status: 200, body: '{"ok":true}' });
    const result = await standardProbe()(
      httpCheck({ type: "http", url: `${target.origin}/health`, assertions: [{ subject: "json:$.ok", op: "eq", value: true }] }),
      never,
    );
    expect(result).toMatchObject({ status: "up", detail: { http: { statusCode: 200 }, assertions: [{ pass: true }] } });
    expect(target.requests.at(-1)!.headers["user-agent"]).toBe(`Vantage/${AGENT_VERSION}`);
  });

  it("report a config they cannot read as an error naming the field, not a crash", async () => {
    const result = await standardProbe()(httpCheck({ url: "ftp://example.test", method: "BREW" }), never);
    expect(result.status).toBe("error");
    expect(result.detail.error!.code).toBe("invalid_config");
    expect(result.detail.reason).toMatch(/^the check's configuration is invalid: url: must be an http:\/\/ or https:\/\/ URL; method: /);
  });

  it("turn an invalid config into an error result through the scheduler, and keep running the others", async () => {
    const probes = createProbeRegistry();
    registerStandardProbes(probes);
    const results: ResultFrame[] = [];
    const arrived = new Set<() => void>();
    const scheduler = createScheduler({
      probes,
      clock: systemClock,
      random: () => 0,
      logger: captureLogs().logger,
      onResult: (result) => {
        results.push(result);
        arrived.forEach((notify) => notify());
      },
    });
    try {
      target.answer({ status: 200, body: "ok" });
      scheduler.replace([
        { ...httpCheck({ url: 42 }), checkId: "broken" },
        { ...httpCheck({ url: `${target.origin}/` }), checkId: "fine" },
      ]);
      await new Promise<void>((resolve) => {
        const check = () => results.length >= 2 && resolve();
        arrived.add(check);
        check();
      });
      const byCheck = Object.fromEntries(results.map((result) => [result.checkId, result]));
      expect(byCheck.broken).toMatchObject({ status: "error", detail: { error: { code: "invalid_config" } } });
      expect(byCheck.fine).toMatchObject({ status: "up" });
    } finally {
      scheduler.stop();
    }
  });
});
