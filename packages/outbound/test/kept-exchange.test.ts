// What a webhook's exchange over a kept connection still guarantees now that its deadline holds
// no AbortSignal (exchange-deadline.ts) and one decoder serves every answer (read-body-prefix.ts):
// the deadline and the caller's cancel still end it, and a body is still cut and decoded as before.
import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboundClient, type OutboundRequest } from "../src/index.ts";
import { ExchangeDeadline } from "../src/exchange-deadline.ts";

/** How the receiver answers a path: a function of the response (write parts, hang …). */
const answers = new Map<string, (response: ServerResponse) => void>();
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  request.resume();
  request.on("end", () => (answers.get(request.url!) ?? ((answer) => answer.end("ok")))(response));
});
let origin: string;
const client = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const webhook = (path: string, more: Partial<OutboundRequest> = {}) =>
  client.request({ url: `${origin}${path}`, method: "POST", body: "{}", timeoutMs: 2_000, reuseConnection: true, ...more });

describe("the deadline of an exchange over a kept connection", () => {
  it("still ends a receiver that does not answer in time, as a timeout, and the next request gets through", async () => {
    expect((await webhook("/warm")).ok).toBe(true);
    answers.set("/slow", () => {});
    expect(await webhook("/slow", { timeoutMs: 100 })).toMatchObject({
      ok: false,
      kind: "timeout",
      retryable: true,
      message: `${origin} did not answer within 100 ms`,
    });
    expect(await webhook("/after")).toMatchObject({ ok: true, body: "ok" });
  });

  it("ends a body that stops coming with what arrived before the deadline", async () => {
    answers.set("/stalls", (response) => {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "100" });
      response.write("partial");
    });
    // The head and "partial" leave together; a second is for a loaded host (the whole suite at
    // once) to deliver them before the deadline, which then cuts the body that never ends.
    expect(await webhook("/stalls", { timeoutMs: 1_000 })).toMatchObject({ ok: true, body: "partial" });
  });

  it("still reports the caller's cancel as cancelled, and leaves no listener on its signal", async () => {
    const caller = new AbortController();
    answers.set("/cancelled", () => caller.abort(new Error("shutting down")));
    expect(await webhook("/cancelled", { signal: caller.signal, timeoutMs: 30_000 })).toMatchObject({ ok: false, kind: "cancelled", retryable: false });
    const other = new AbortController();
    expect((await webhook("/fine", { signal: other.signal })).ok).toBe(true);
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
  });

  it("sends nothing for a caller that cancelled before it began", async () => {
    let reached = false;
    answers.set("/never", (response) => {
      reached = true;
      response.end();
    });
    const caller = new AbortController();
    caller.abort(new Error("gone"));
    expect(await webhook("/never", { signal: caller.signal })).toMatchObject({ ok: false, kind: "cancelled" });
    expect(reached).toBe(false);
  });
});

describe("reading the answer with one decoder for every read", () => {
  it("decodes a character split across the answer's chunks", async () => {
    const bytes = Buffer.from("héllo wörld", "utf8");
    answers.set("/split", (response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      // Split inside "é" (bytes 1–2) and inside "ö" (bytes 8–9).
      response.write(bytes.subarray(0, 2));
      response.write(bytes.subarray(2, 9));
      response.end(bytes.subarray(9));
    });
    expect(await webhook("/split")).toMatchObject({ ok: true, body: "héllo wörld" });
  });

  it("shows a character the whole body leaves unfinished as U+FFFD, as a streaming decoder does", async () => {
    answers.set("/unfinished", (response) => response.end(Buffer.from([0x61, 0x62, 0xe2, 0x82])));
    expect(await webhook("/unfinished")).toMatchObject({ ok: true, body: "ab\uFFFD" });
  });

  it("carries nothing of a read cut mid-character into the next read", async () => {
    answers.set("/cut", (response) => response.end("é".repeat(100)));
    expect(await webhook("/cut", { maxBodyBytes: 11 })).toMatchObject({ ok: true, body: "é".repeat(5) });
    answers.set("/next", (response) => response.end("next"));
    expect(await webhook("/next")).toMatchObject({ ok: true, body: "next" });
  });

  it("still cuts a large body at the limit", async () => {
    answers.set("/large", (response) => response.end("y".repeat(100_000)));
    expect(await webhook("/large", { maxBodyBytes: 2_048 })).toMatchObject({ ok: true, body: "y".repeat(2_048) });
  });
});

describe("ExchangeDeadline", () => {
  it("makes its signal only when asked, aborted already if the deadline passed", () => {
    const caller = new AbortController();
    const deadline = new ExchangeDeadline(caller.signal, 60_000);
    caller.abort(new Error("core stopping"));
    expect(deadline.aborted).toBe(true);
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as Error).message).toBe("core stopping");
  });

  it("aborts a signal made earlier with a TimeoutError when the time runs out", async () => {
    const deadline = new ExchangeDeadline(undefined, 20);
    const { signal } = deadline;
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    expect((signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("lets go of the caller's signal once released", () => {
    const caller = new AbortController();
    const deadline = new ExchangeDeadline(caller.signal, 60_000);
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(1);
    deadline.release();
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    expect(deadline.aborted).toBe(false);
  });
});
