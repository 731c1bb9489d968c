// A timeout is the target's fault only when this process gave the run its time: a run whose
// event loop was blocked for most of its timeout reports `error` (overloaded), not `down`.
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { createOutboundClient } from "@vantage/outbound";
import { probeSpecSchema } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpReceiver, startHttpReceiver } from "../../server/test/support/network/receivers.ts";
import { runProbe, timedOutResult, watchLoopStall } from "../src/index.ts";

const outbound = createOutboundClient({ userAgent: "test" });
let target: HttpReceiver;
/** Accepts and never says a word. */
let silent: Server;
const silentSockets = new Set<Socket>();
beforeAll(async () => {
  target = await startHttpReceiver();
  target.answer("hang");
  silent = createServer((socket) => silentSockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await target?.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
});

/** Holds the event loop, as a CPU-bound burst or a saturated core does. */
function blockLoop(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const options = () => ({ signal: new AbortController().signal, outbound });

describe("a run that times out", () => {
  it("is error (overloaded), not down, when the event loop was blocked for most of its timeout", async () => {
    const spec = probeSpecSchema.parse({ type: "http", url: `${target.origin}/`, timeoutMs: 1_000 });
    const running = runProbe(spec, options());
    blockLoop(800);
    const result = await running;
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "overloaded" } } });
    expect(result.detail.reason).toMatch(/this process was too busy \(\d+ ms of the 1000 ms timeout/);
  });

  it("is down (timeout) when the loop ran freely and the target did not answer", async () => {
    const spec = probeSpecSchema.parse({ type: "http", url: `${target.origin}/`, timeoutMs: 2_000 });
    expect(await runProbe(spec, options())).toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
  });

  it("is error for a tcp probe too: every type goes through runProbe", async () => {
    const port = (silent.address() as AddressInfo).port;
    const spec = probeSpecSchema.parse({ type: "tcp", host: "127.0.0.1", port, send: "hi", expect: "never", timeoutMs: 1_000 });
    const running = runProbe(spec, options());
    blockLoop(800);
    expect(await running).toMatchObject({ status: "error", detail: { error: { code: "overloaded" } } });
  });
});

describe("the loop stall watch", () => {
  it("counts a stall going on while it is read, and only stalls after it began", () => {
    blockLoop(100);
    const watch = watchLoopStall();
    expect(watch.stalledMs()).toBe(0);
    blockLoop(200);
    expect(watch.stalledMs()).toBeGreaterThanOrEqual(150);
    watch.release();
  });

  it("blames the target unless the process took a quarter of the timeout", () => {
    expect(timedOutResult(1_000, 249).status).toBe("down");
    expect(timedOutResult(1_000, 250)).toMatchObject({ status: "error", detail: { error: { code: "overloaded" } } });
  });
});
