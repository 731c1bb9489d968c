// runProbe dispatches each check type to its probe, never throws, and what it reports always
// fits in a satellite's result frame.
import { randomUUID } from "node:crypto";
import { createOutboundClient } from "@vantage/outbound";
import { probeSpecSchema, resultFrameSchema } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpReceiver, startHttpReceiver } from "../../server/test/support/network/receivers.ts";
import { PROBES, runProbe } from "../src/index.ts";

const outbound = createOutboundClient({ userAgent: "test" });
let target: HttpReceiver;
beforeAll(async () => {
  target = await startHttpReceiver();
});
afterAll(async () => {
  await target?.close();
});

describe("runProbe", () => {
  it("has a probe for every check type", () => {
    expect(Object.keys(PROBES).sort()).toEqual(["dns", "http", "tcp", "tls"]);
  });

  it("runs the probe of the spec's type, and its result fits a result frame", async () => {
    target.answer({ status: 500, body: "é".repeat(100_000) });
    const spec = probeSpecSchema.parse({
      type: "http",
      url: `${target.origin}/`,
      assertions: Array.from({ length: 50 }, () => ({ subject: "body", op: "contains", value: "x".repeat(900) })),
    });
    const result = await runProbe(spec, { signal: new AbortController().signal, outbound });
    expect(result.status).toBe("down");
    const frame = { type: "result", resultId: randomUUID(), checkId: "c", startedAt: new Date().toISOString(), durationMs: 1, ...result };
    expect(resultFrameSchema.safeParse(frame).error).toBeUndefined();
  });

  it("reports a probe that throws as an error naming what broke, and does not throw", async () => {
    const broken = { signal: new AbortController().signal, outbound: { request: () => Promise.reject(new Error("client exploded")) } };
    const spec = probeSpecSchema.parse({ type: "http", url: "http://127.0.0.1:9/" });
    expect(await runProbe(spec, broken)).toEqual({
      status: "error",
      detail: { reason: "the http probe failed: client exploded", error: { code: "probe_error", message: "the http probe failed: client exploded" } },
    });
  });
});
