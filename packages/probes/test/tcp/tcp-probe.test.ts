// The tcp probe against real servers on 127.0.0.1: connect, send and expect, the response's
// bounds, TLS, assertions, timeouts and cancellation, and the address policy.
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { createOutboundClient } from "@vantage/outbound";
import { checkResultDetailSchema, probeSpecSchema, type TcpProbeSpec } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa, type TestCa } from "../../../server/test/support/network/certificates.ts";
import { type ProbeOptions, type ProbeResult, probeTcp } from "../../src/index.ts";

const options = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({
  signal: new AbortController().signal,
  outbound: createOutboundClient({ userAgent: "test" }),
  ...extra,
});

async function probe(input: Record<string, unknown>, extra?: Partial<ProbeOptions>): Promise<ProbeResult> {
  const result = await probeTcp(probeSpecSchema.parse({ type: "tcp", host: "127.0.0.1", timeoutMs: 5_000, ...input }) as TcpProbeSpec, options(extra));
  expect(checkResultDetailSchema.safeParse(result.detail).success, JSON.stringify(result.detail)).toBe(true);
  return result;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
let accepted = 0;
async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

let banner: number;
let echo: number;
let silent: number;
let flood: number;
let secure: number;
let ca: TestCa;

beforeAll(async () => {
  banner = await listen(createServer((socket) => socket.write("220 smtp.example.test ESMTP ready\r\n")));
  // Echoes a line back in two parts, the second a moment later.
  echo = await listen(
    createServer((socket) =>
      socket.on("data", (data: Buffer) => {
        socket.write(`got: ${data.toString().slice(0, 3)}`);
        setTimeout(() => socket.end(`${data.toString().slice(3)}`), 20);
      }),
    ),
  );
  silent = await listen(createServer(() => undefined));
  flood = await listen(createServer((socket) => socket.end("x".repeat(1024 * 1024))));
  ca = await createTestCa();
  secure = await listen(createTlsServer({ ...(await ca.issue()) }, (socket) => socket.end("+OK secure\r\n")));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe("the tcp probe", () => {
  it("is up when it connects, timing the connection", async () => {
    const result = await probe({ port: banner });
    expect(result.status).toBe("up");
    expect(result.detail.timings!.connectMs).toBeGreaterThanOrEqual(0);
    expect(result.detail).not.toHaveProperty("tcp");
  });

  it("is down when nothing listens", async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, "127.0.0.1", () => resolve((closed.address() as AddressInfo).port)));
    await new Promise((resolve) => closed.close(resolve));
    expect(await probe({ port })).toMatchObject({ status: "down", detail: { error: { code: "connection_refused" } } });
  });

  it("reads until the expected text arrives, across chunks, after sending", async () => {
    const result = await probe({ port: echo, send: "PING\r\n", expect: "NG\r\n", assertions: [{ subject: "response", op: "eq", value: "got: PING\r\n" }] });
    expect(result.status).toBe("up");
    expect(result.detail.timings!.firstByteMs).toBeGreaterThanOrEqual(0);
  });

  it("is down when the server closes without the expected text, showing what it sent", async () => {
    const result = await probe({ port: echo, send: "PING", expect: "PONG" });
    expect(result).toMatchObject({
      status: "down",
      detail: { reason: 'the response did not contain "PONG" before the server closed the connection', tcp: { response: "got: PING" } },
    });
  });

  it("is down when the expected text does not come within the timeout, promptly", async () => {
    const started = performance.now();
    const result = await probe({ port: silent, expect: "hello", timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: "down", detail: { reason: 'the response did not contain "hello" within 200 ms', error: { code: "timeout" } } });
  });

  it("takes the first data as the response when it expects nothing in particular", async () => {
    const result = await probe({
      port: banner,
      assertions: [
        { subject: "response", op: "matches", value: "^220 " },
        { subject: "responseTimeMs", op: "lt", value: 5_000 },
      ],
    });
    expect(result.status).toBe("up");
    expect(result.detail.assertions!.map((verdict) => verdict.pass)).toEqual([true, true]);
  });

  it("reads a bounded response from a server that sends a lot, and shows at most 1 KiB of it", async () => {
    const result = await probe({ port: flood, expect: "never there" });
    expect(result.detail.reason).toBe('the response did not contain "never there" in its first 64 KiB');
    expect(result.detail.tcp!.response).toHaveLength(1_024);
  });

  it("speaks TLS when asked, verifying the certificate, and reports it", async () => {
    expect(await probe({ port: secure, tls: true, serverName: "localhost" })).toMatchObject({
      status: "down",
      detail: { error: { code: "tls" }, cert: { issuer: "CN=Vantage Test CA" } },
    });
  });

  it("stops at once when cancelled, as an error", async () => {
    const controller = new AbortController();
    const running = probe({ port: silent, expect: "x", timeoutMs: 30_000 }, { signal: controller.signal });
    const before = accepted;
    await expect.poll(() => accepted).toBeGreaterThan(before);
    controller.abort();
    expect(await running).toMatchObject({ status: "error", detail: { error: { code: "cancelled" } } });
  });

  it("refuses an address the policy rejects, without connecting", async () => {
    const before = accepted;
    const result = await probe({ port: banner }, { addressPolicy: () => "not here" });
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "address_refused" } } });
    expect(accepted).toBe(before);
  });
});
