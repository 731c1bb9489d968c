// The http probe against real servers on 127.0.0.1: up, down and degraded; expectStatus,
// every assertion subject, timings, redirects and credentials, TLS verification and
// certificates, timeouts and cancellation, the address policy, and a 10 MiB body that never
// leaves the probe.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createOutboundClient } from "@vantage/outbound";
import { checkResultDetailSchema, type HttpProbeSpec, MAX_DETAIL_BYTES, MAX_EXCERPT_BYTES, probeSpecSchema } from "@vantage/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestCa, daysFromNow, type TestCa } from "../../../server/test/support/network/certificates.ts";
import { type HttpReceiver, startHttpReceiver } from "../../../server/test/support/network/receivers.ts";
import { MAX_ASSERTION_BODY_BYTES, type ProbeOptions, type ProbeResult, probeHttp } from "../../src/index.ts";

const outbound = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });
const options = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({ signal: new AbortController().signal, outbound, ...extra });

function spec(input: Record<string, unknown>): HttpProbeSpec {
  return probeSpecSchema.parse({ type: "http", timeoutMs: 5_000, ...input }) as HttpProbeSpec;
}

/** Runs the probe and checks what every result must be: a detail the protocol accepts, within its size. */
async function probe(input: Record<string, unknown>, extra?: Partial<ProbeOptions>): Promise<ProbeResult> {
  const result = await probeHttp(spec(input), options(extra));
  expect(checkResultDetailSchema.safeParse(result.detail).success, JSON.stringify(result.detail)).toBe(true);
  expect(new TextEncoder().encode(JSON.stringify(result.detail)).length).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
  return result;
}

let target: HttpReceiver;
let other: HttpReceiver;
/** Answers after `?delay=<ms>`, or with a 10 MiB body at /huge. */
let special: Server;
let specialOrigin: string;

beforeAll(async () => {
  target = await startHttpReceiver();
  other = await startHttpReceiver();
  special = createServer((request, response) => {
    const url = new URL(request.url!, "http://x");
    if (url.pathname === "/huge") {
      response.writeHead(500, { "content-type": "text/plain" });
      // 10 MiB, with a marker past what the probe reads.
      const chunk = "y".repeat(1024 * 1024);
      for (let megabyte = 0; megabyte < 10; megabyte++) response.write(megabyte === 1 ? `MARKER${chunk.slice(6)}` : chunk);
      response.end();
      return;
    }
    setTimeout(() => response.end("late"), Number(url.searchParams.get("delay") ?? 0));
  });
  await new Promise<void>((resolve) => special.listen(0, "127.0.0.1", resolve));
  specialOrigin = `http://127.0.0.1:${(special.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await target?.close();
  await other?.close();
  special?.closeAllConnections();
  await new Promise((resolve) => special?.close(resolve));
});
beforeEach(() => {
  for (const receiver of [target, other]) {
    receiver.requests.length = 0;
    receiver.answer({ status: 200, body: "ok" });
  }
});

describe("status", () => {
  it("is up on a 2xx by default, with its status code and timings, and no excerpt", async () => {
    const result = await probe({ url: `${target.origin}/health` });
    expect(result.status).toBe("up");
    expect(result.detail).not.toHaveProperty("reason");
    expect(result.detail).not.toHaveProperty("excerpt");
    expect(result.detail.http).toEqual({ statusCode: 200 });
    const timings = result.detail.timings!;
    expect(timings.connectMs).toBeGreaterThanOrEqual(0);
    expect(timings.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(timings.totalMs).toBeGreaterThanOrEqual(timings.firstByteMs!);
    expect(target.requests[0]!.headers["user-agent"]).toBe("Vantage/9.9.9-test");
  });

  it("is down on another status, saying what it expected, with an excerpt of the body", async () => {
    target.answer({ status: 503, body: "maintenance until 5" });
    const result = await probe({ url: `${target.origin}/health` });
    expect(result).toMatchObject({
      status: "down",
      detail: { reason: "expected status 2xx, got 503", http: { statusCode: 503 }, excerpt: "maintenance until 5" },
    });
  });

  it.each([
    [[503], "up"],
    [["5xx"], "up"],
    [["500-599"], "up"],
    [["200", "500-502"], "down"],
    [[200, "2xx"], "down"],
  ])("with expectStatus %j a 503 is %s", async (expectStatus, status) => {
    target.answer({ status: 503 });
    expect((await probe({ url: `${target.origin}/`, expectStatus })).status).toBe(status);
  });

  it("is degraded when slower than degradedAfterMs, saying how slow", async () => {
    const result = await probe({ url: `${specialOrigin}/?delay=60`, degradedAfterMs: 20 });
    expect(result.status).toBe("degraded");
    expect(result.detail.reason).toMatch(/^slower than 20 ms \(took \d+ ms\)$/);
    expect((await probe({ url: `${specialOrigin}/?delay=0`, degradedAfterMs: 2_000 })).status).toBe("up");
  });

  it("is down when nothing listens, with the failing assertion's expected value and nothing seen", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const result = await probe({ url: `http://127.0.0.1:${port}/`, assertions: [{ subject: "status", op: "eq", value: 200 }] });

    expect(result.status).toBe("down");
    expect(result.detail.error).toMatchObject({ code: "connection_refused" });
    expect(result.detail.reason).toMatch(/ECONNREFUSED/);
    expect(result.detail.assertions).toEqual([{ path: "assertions[0]", subject: "status", op: "eq", expected: 200, pass: false, onFail: "fail" }]);
  });
});

describe("assertions on every subject", () => {
  it("passes each subject it observes", async () => {
    target.answer({
      status: 200,
      body: JSON.stringify({ data: { state: "ok", items: [1, 2] } }),
      headers: { etag: '"v7"', "content-type": "application/json" },
    });
    const result = await probe({
      url: `${target.origin}/api`,
      assertions: [
        { subject: "status", op: "in", value: [200, 204] },
        { subject: "responseTimeMs", op: "lt", value: 5_000 },
        { subject: "header:etag", op: "eq", value: '"v7"' },
        { subject: "header:Content-Type", op: "contains", value: "json" },
        { subject: "body", op: "matches", value: '"state":\\s*"ok"' },
        { subject: "json:$.data.state", op: "eq", value: "ok" },
        { subject: "json:$.data.items[1]", op: "gte", value: 2 },
        { op: "not", of: { subject: "certDaysRemaining", op: "exists" } },
      ],
    });
    expect(result.status).toBe("up");
    expect(result.detail.assertions).toHaveLength(8);
    // A leaf's verdict is its own comparison: the one under `not` did not hold, as it should not.
    expect(result.detail.assertions!.filter((verdict) => !verdict.pass).map((verdict) => verdict.path)).toEqual(["assertions[7].of"]);
  });

  it("is degraded when only a degrade assertion fails, and down when a fail one does", async () => {
    target.answer({ status: 200, body: '{"version":"1.2"}' });
    const degraded = await probe({ url: `${target.origin}/`, assertions: [{ subject: "json:$.version", op: "eq", value: "1.3", onFail: "degrade" }] });
    expect(degraded).toMatchObject({
      status: "degraded",
      detail: { reason: 'assertions[0] failed: expected json:$.version eq "1.3", got "1.2"', excerpt: '{"version":"1.2"}' },
    });

    const down = await probe({
      url: `${target.origin}/`,
      assertions: [
        { subject: "json:$.version", op: "eq", value: "1.3", onFail: "degrade" },
        { subject: "header:x-missing", op: "exists" },
      ],
    });
    expect(down.status).toBe("down");
    expect(down.detail.reason).toBe("assertions[1] failed: expected header:x-missing exists, got nothing");
  });

  it("reads a body that is not JSON as having no JSON values", async () => {
    target.answer({ status: 200, body: "<html>" });
    const result = await probe({ url: `${target.origin}/`, assertions: [{ subject: "json:$", op: "exists" }] });
    expect(result.status).toBe("down");
    expect(result.detail.assertions![0]).not.toHaveProperty("actual");
  });
});

describe("redirects", () => {
  it("follows up to maxRedirects and reports where it landed", async () => {
    target.answerNext({ status: 302, headers: { location: `${other.origin}/landed` } });
    const result = await probe({ url: `${target.origin}/start`, maxRedirects: 1 });
    expect(result).toMatchObject({ status: "up", detail: { http: { statusCode: 200, url: `${other.origin}/landed`, redirects: 1 } } });
  });

  it("is down past maxRedirects, naming the limit", async () => {
    target.answer({ status: 302, headers: { location: "/again" } });
    const result = await probe({ url: `${target.origin}/loop`, maxRedirects: 2 });
    expect(result).toMatchObject({ status: "down", detail: { error: { code: "too_many_redirects" }, http: { statusCode: 302 } } });
    expect(result.detail.reason).toContain("more than 2 redirects");
    expect(target.requests).toHaveLength(3);
  });

  it("judges the redirect itself when redirects are not followed", async () => {
    target.answer({ status: 301, headers: { location: `${other.origin}/new` } });
    expect((await probe({ url: `${target.origin}/old`, followRedirects: false })).detail.reason).toBe("expected status 2xx, got 301");
    const judged = await probe({
      url: `${target.origin}/old`,
      followRedirects: false,
      expectStatus: [301],
      assertions: [{ subject: "header:location", op: "eq", value: `${other.origin}/new` }],
    });
    expect(judged.status).toBe("up");
    expect(other.requests).toEqual([]);
  });

  it("never carries credential headers to another origin", async () => {
    target.answerNext({ status: 307, headers: { location: `${other.origin}/elsewhere` } });
    await probe({ url: `${target.origin}/start`, headers: { Authorization: "Bearer s3cret", Cookie: "id=1", "X-Trace": "t1" } });
    expect(target.requests[0]!.headers).toMatchObject({ authorization: "Bearer s3cret", cookie: "id=1" });
    expect(other.requests[0]!.headers).toMatchObject({ "x-trace": "t1" });
    expect(other.requests[0]!.headers).not.toHaveProperty("authorization");
    expect(other.requests[0]!.headers).not.toHaveProperty("cookie");
  });
});

describe("https", () => {
  let ca: TestCa;
  let secure: HttpReceiver;
  let expired: HttpReceiver;
  let expiring: HttpReceiver;

  beforeAll(async () => {
    ca = await createTestCa();
    secure = await startHttpReceiver({ tls: await ca.issue() });
    expired = await startHttpReceiver({ tls: await ca.issue({ notBefore: daysFromNow(-60), notAfter: daysFromNow(-2.5) }) });
    expiring = await startHttpReceiver({ tls: await ca.issue({ notAfter: daysFromNow(5.5) }) });
  });
  afterAll(async () => {
    await Promise.all([secure?.close(), expired?.close(), expiring?.close()]);
  });

  it("is down when the certificate is not trusted, and up with its CA given or verification off, reporting the certificate", async () => {
    const untrusted = await probe({ url: `${secure.origin}/` });
    expect(untrusted).toMatchObject({ status: "down", detail: { error: { code: "tls" }, cert: { issuer: "CN=Vantage Test CA" } } });
    expect(secure.requests).toEqual([]);

    const withCa = await probe({ url: `${secure.origin}/`, tls: { ca: ca.cert } });
    expect(withCa.status).toBe("up");
    expect(withCa.detail.cert).toMatchObject({ subject: "CN=localhost", issuer: "CN=Vantage Test CA", sans: ["localhost", "127.0.0.1"] });
    expect(withCa.detail.cert!.daysRemaining).toBeGreaterThan(80);
    expect(withCa.detail.timings!.tlsMs).toBeGreaterThanOrEqual(0);

    expect((await probe({ url: `${secure.origin}/`, tls: { verify: false } })).status).toBe("up");
  });

  it("is an error, not the target's fault, when the extra CA does not parse", async () => {
    const result = await probe({ url: `${secure.origin}/`, tls: { ca: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" } });
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "invalid_config" } } });
    expect(result.detail.reason).toContain("does not parse");
  });

  it("is down on an expired certificate, saying so, with negative days remaining", async () => {
    const result = await probe({ url: `${expired.origin}/`, tls: { ca: ca.cert } });
    expect(result).toMatchObject({ status: "down", detail: { error: { code: "tls" } } });
    expect(result.detail.reason).toContain("the certificate has expired");
    expect(result.detail.cert!.daysRemaining).toBe(-3);
  });

  it("judges the days a certificate has left with certDaysRemaining", async () => {
    const assertions = [{ subject: "certDaysRemaining", op: "gte", value: 14, onFail: "degrade" }];
    const near = await probe({ url: `${expiring.origin}/`, tls: { ca: ca.cert }, assertions });
    expect(near).toMatchObject({
      status: "degraded",
      detail: { reason: "assertions[0] failed: expected certDaysRemaining gte 14, got 5", cert: { daysRemaining: 5 } },
    });
    expect((await probe({ url: `${secure.origin}/`, tls: { ca: ca.cert }, assertions })).status).toBe("up");
  });
});

describe("time and cancellation", () => {
  it("is down when the target does not answer within timeoutMs, promptly", async () => {
    target.answer("hang");
    const started = performance.now();
    const result = await probe({ url: `${target.origin}/`, timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: "down", detail: { error: { code: "timeout" } } });
    expect(result.detail.reason).toContain("did not answer within 200 ms");
  });

  it("stops at once when its signal aborts, reporting an error rather than the target down", async () => {
    target.answer("hang");
    const controller = new AbortController();
    const stop = target.subscribe(() => controller.abort());
    const started = performance.now();
    const result = await probe({ url: `${target.origin}/`, timeoutMs: 30_000 }, { signal: controller.signal });
    stop();
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "cancelled" } } });
  });
});

describe("bounds", () => {
  it("reads at most MAX_ASSERTION_BODY_BYTES of a 10 MiB body and keeps the detail small", async () => {
    const result = await probe({ url: `${specialOrigin}/huge`, assertions: [{ subject: "body", op: "contains", value: "MARKER" }] });
    expect(MAX_ASSERTION_BODY_BYTES).toBeLessThan(1024 * 1024);
    expect(result.status).toBe("down");
    // The marker sits after the first MiB: never read.
    expect(result.detail.assertions![0]!.pass).toBe(false);
    expect(new TextEncoder().encode(result.detail.excerpt!).length).toBe(MAX_EXCERPT_BYTES);
  });

  it("keeps the detail within its limit however many assertions fail", async () => {
    target.answer({ status: 200, body: "z".repeat(50_000) });
    const assertions = Array.from({ length: 50 }, (_, index) => ({
      op: "and",
      of: [1, 2, 3, 4].map((n) => ({ subject: "body", op: "eq", value: `${"long expected value ".repeat(40)}${index}-${n}` })),
    }));
    const result = await probe({ url: `${target.origin}/`, assertions });
    expect(result.status).toBe("down");
    expect(result.detail.reason).toMatch(/^assertions\[0\] failed/);
    expect(result.detail.assertions!.length).toBeGreaterThan(0);
    expect(result.detail.assertions!.length).toBeLessThan(200);
  });
});

describe("the address policy", () => {
  it("refuses a target the policy rejects as an error, sending nothing", async () => {
    const result = await probe(
      { url: `${target.origin}/` },
      { addressPolicy: (address) => (address.startsWith("127.") ? "loopback is refused by this test" : undefined) },
    );
    expect(result).toMatchObject({ status: "error", detail: { error: { code: "address_refused" } } });
    expect(result.detail.reason).toContain("loopback is refused by this test");
    expect(target.requests).toEqual([]);
  });
});
