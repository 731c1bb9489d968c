// The outbound client against loopback servers: what every request carries, redirects without leaking credentials, what is retryable, bounded answers.
import { getEventListeners } from "node:events";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestCa, selfSignedCertificate, type TestCa } from "../../server/test/support/network/certificates.ts";
import { type HttpReceiver, startHttpReceiver } from "../../server/test/support/network/receivers.ts";
import { createOutboundClient, isRetryableStatus, type OutboundFailure, type OutboundResult } from "../src/index.ts";

const client = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });

// Two receivers on two ports: two origins.
let first: HttpReceiver;
let second: HttpReceiver;
let refusedOrigin: string;

beforeAll(async () => {
  first = await startHttpReceiver();
  second = await startHttpReceiver();
  // A port that was just free: nothing listens there.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  refusedOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await first?.close();
  await second?.close();
});
beforeEach(() => {
  for (const receiver of [first, second]) {
    receiver.requests.length = 0;
    receiver.answer({ status: 200, body: "ok" });
  }
});

const CREDENTIALS = {
  Authorization: "Bearer sk-live-123",
  "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
  Cookie: "session=789",
  "X-Api-Key": "key-456",
  "X-Vantage-Signature": "t=1,v1=00",
};

function failed(result: OutboundResult): OutboundFailure {
  if (result.ok) throw new Error(`expected a failure, got ${result.status}`);
  return result;
}

describe("what every request carries", () => {
  it("sends the client's User-Agent", async () => {
    await client.request({ url: `${first.origin}/ua`, timeoutMs: 5_000 });
    expect(first.requests[0]!.headers["user-agent"]).toBe("Vantage/9.9.9-test");
  });

  it("leaves no listener on the caller's signal once the request ended", async () => {
    const caller = new AbortController();
    await client.request({ url: `${first.origin}/done`, timeoutMs: 5_000, signal: caller.signal });
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
  });

  it("lets a request set its own User-Agent", async () => {
    await client.request({ url: `${first.origin}/ua`, headers: { "user-agent": "probe/1" }, timeoutMs: 5_000 });
    expect(first.requests[0]!.headers["user-agent"]).toBe("probe/1");
  });
});

describe("what fetch did, kept without it", () => {
  it("asks for any type and a compressed answer, as fetch does", async () => {
    await client.request({ url: `${first.origin}/accept`, timeoutMs: 5_000 });
    expect(first.requests[0]!.headers).toMatchObject({ accept: "*/*", "accept-encoding": "gzip, deflate", host: new URL(first.origin).host });
  });

  it("reads a gzip answer decoded", async () => {
    const server = createServer((_request, response) => response.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("compressed hello")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const result = await client.request({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, timeoutMs: 5_000 });
      expect(result).toMatchObject({ ok: true, body: "compressed hello" });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("refuses a GET with a body as an invalid request, sending nothing", async () => {
    const result = failed(await client.request({ url: `${first.origin}/body`, body: "x", timeoutMs: 5_000 }));
    expect(result).toMatchObject({ kind: "invalid_request", retryable: false });
    expect(first.requests).toHaveLength(0);
  });

  it("labels a text body as text/plain unless the request says otherwise", async () => {
    await client.request({ url: `${first.origin}/post`, method: "POST", body: "hi", timeoutMs: 5_000 });
    expect(first.requests[0]!.headers).toMatchObject({ "content-type": "text/plain;charset=UTF-8", "content-length": "2" });
  });
});

describe("refusing redirects (the default)", () => {
  it("fails on a 302, naming where it pointed, and sends nothing there", async () => {
    first.answer({ status: 302, headers: { location: `${second.origin}/next?x=1` } });

    const result = failed(await client.request({ url: `${first.origin}/hook`, method: "POST", headers: CREDENTIALS, body: "{}", timeoutMs: 5_000 }));

    expect(result).toMatchObject({ kind: "redirect", retryable: false, status: 302, location: `${second.origin}/next?x=1` });
    expect(result.message).toBe(`${first.origin} answered 302 pointing to ${second.origin}/next?x=1; redirects are not followed: use that URL instead`);
    expect(first.requests.map((request) => request.method)).toEqual(["POST"]);
    expect(second.requests).toEqual([]);
  });

  it("names only the origin it pointed to when the URL is a secret", async () => {
    first.answer({ status: 301, headers: { location: `${second.origin}/services/T/B/token-5ecret` } });

    const result = failed(
      await client.request({ url: `${first.origin}/services/T/B/old-5ecret`, method: "POST", body: "{}", timeoutMs: 5_000, secretUrl: true }),
    );

    expect(result.message).toContain(`pointing to ${second.origin}/…`);
    expect(JSON.stringify(result)).not.toMatch(/5ecret/);
  });
});

describe("following redirects when asked", () => {
  it("never sends credential headers to another origin, and keeps the others", async () => {
    first.answer({ status: 307, headers: { location: `${second.origin}/landed` } });

    const result = await client.request({
      url: `${first.origin}/start`,
      method: "POST",
      headers: { ...CREDENTIALS, "X-Team": "ops" },
      body: '{"a":1}',
      timeoutMs: 5_000,
      redirect: { follow: 3 },
    });

    expect(result).toMatchObject({ ok: true, status: 200, url: `${second.origin}/landed` });
    expect(first.requests[0]!.headers).toMatchObject({ authorization: CREDENTIALS.Authorization, cookie: CREDENTIALS.Cookie });
    const [landed] = second.requests;
    // 307 repeats the request: same method and body.
    expect(landed).toMatchObject({ method: "POST", path: "/landed", body: '{"a":1}', headers: { "x-team": "ops", "user-agent": "Vantage/9.9.9-test" } });
    for (const name of Object.keys(CREDENTIALS)) expect(landed!.headers).not.toHaveProperty(name.toLowerCase());
  });

  it("keeps credentials on a redirect within the same origin", async () => {
    first.answerNext({ status: 302, headers: { location: "/same-origin" } });

    await client.request({ url: `${first.origin}/start`, headers: { Authorization: CREDENTIALS.Authorization }, timeoutMs: 5_000, redirect: { follow: 1 } });

    expect(first.requests.map((request) => [request.path, request.headers.authorization])).toEqual([
      ["/start", CREDENTIALS.Authorization],
      ["/same-origin", CREDENTIALS.Authorization],
    ]);
  });

  it("does not send credentials back to the first origin once they were dropped", async () => {
    first.answerNext({ status: 302, headers: { location: `${second.origin}/away` } });
    second.answerNext({ status: 302, headers: { location: `${first.origin}/back` } });

    await client.request({ url: `${first.origin}/start`, headers: { Cookie: CREDENTIALS.Cookie }, timeoutMs: 5_000, redirect: { follow: 2 } });

    expect(first.requests.map((request) => [request.path, request.headers.cookie])).toEqual([
      ["/start", CREDENTIALS.Cookie],
      ["/back", undefined],
    ]);
  });

  it("turns a POST into a bodiless GET on a 303, as browsers do", async () => {
    first.answerNext({ status: 303, headers: { location: `${second.origin}/see-other` } });

    await client.request({
      url: `${first.origin}/form`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
      timeoutMs: 5_000,
      redirect: { follow: 1 },
    });

    expect(second.requests[0]).toMatchObject({ method: "GET", body: "" });
    expect(second.requests[0]!.headers).not.toHaveProperty("content-type");
  });

  it("fails after the allowed number of redirects, without making another request", async () => {
    first.answer({ status: 302, headers: { location: "/loop" } });

    const result = failed(await client.request({ url: `${first.origin}/loop`, timeoutMs: 5_000, redirect: { follow: 2 } }));

    expect(result).toMatchObject({ kind: "redirect_limit", retryable: false, status: 302 });
    expect(result.message).toContain("more than 2 redirects");
    expect(first.requests).toHaveLength(3);
  });

  it("refuses to follow a redirect to anything but http or https", async () => {
    first.answer({ status: 302, headers: { location: "file:///etc/passwd" } });

    const result = failed(await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000, redirect: { follow: 5 } }));

    expect(result).toMatchObject({ kind: "redirect", retryable: false });
    expect(result.message).toContain("not an http:// or https:// URL");
  });
});

describe("failures and whether to retry them", () => {
  it("reports a receiver that does not answer in time as a timeout worth retrying", async () => {
    first.answer("hang");
    const result = failed(await client.request({ url: `${first.origin}/slow`, timeoutMs: 100 }));
    expect(result).toMatchObject({ kind: "timeout", retryable: true, message: `${first.origin} did not answer within 100 ms` });
  });

  it("reports a request the caller cancelled as cancelled, not worth retrying", async () => {
    first.answer("hang");
    const controller = new AbortController();
    const unsubscribe = first.subscribe(() => controller.abort(new Error("shutting down")));
    const result = failed(await client.request({ url: `${first.origin}/slow`, timeoutMs: 30_000, signal: controller.signal }));
    unsubscribe();
    expect(result).toMatchObject({ kind: "cancelled", retryable: false, message: `The request to ${first.origin} was cancelled` });
  });

  it("reports a refused connection as a network failure worth retrying", async () => {
    const result = failed(await client.request({ url: `${refusedOrigin}/x`, timeoutMs: 5_000 }));
    expect(result).toMatchObject({ kind: "network", retryable: true });
    expect(result.message).toMatch(/^Could not reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });

  it.each([
    ["a URL that does not parse", { url: "not a url" }],
    ["a data: URL", { url: "data:text/plain,hello" }],
    ["a header value with a line break", { headers: { "x-bad": "a\nb" } }],
    ["a GET with a body", { method: "GET", body: "{}" }],
  ])("refuses %s as an invalid request, sending nothing", async (_what, change) => {
    const result = failed(await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000, ...change }));
    expect(result).toMatchObject({ kind: "invalid_request", retryable: false });
    expect(first.requests).toEqual([]);
  });

  it("reports a non-2xx answer with its status, text and body, retryable as the table says", async () => {
    first.answer({ status: 503, body: "maintenance" });
    expect(await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000 })).toMatchObject({
      ok: false,
      kind: "status",
      retryable: true,
      status: 503,
      statusText: "Service Unavailable",
      body: "maintenance",
      message: `${first.origin} answered 503`,
    });
    first.answer({ status: 422, body: "bad field" });
    expect(await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000 })).toMatchObject({ ok: false, kind: "status", retryable: false, status: 422 });
  });

  it.each([
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [507, true],
    [599, true],
    [501, false],
    [505, false],
    [511, false],
    [400, false],
    [401, false],
    [404, false],
    [409, false],
    [422, false],
    [304, false],
  ])("classes an answer %i as retryable: %s", (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
  });
});

describe("reading the answer", () => {
  it("keeps only the first bytes of a large body", async () => {
    first.answer({ status: 200, body: "x".repeat(200_000) });
    const result = await client.request({ url: `${first.origin}/big`, timeoutMs: 5_000, maxBodyBytes: 1_000 });
    expect(result).toMatchObject({ ok: true, body: "x".repeat(1_000) });
  });

  it("drops a character the byte limit cuts in half", async () => {
    first.answer({ status: 200, body: "é".repeat(100) });
    const result = await client.request({ url: `${first.origin}/accents`, timeoutMs: 5_000, maxBodyBytes: 11 });
    expect(result).toMatchObject({ ok: true, body: "é".repeat(5) });
  });
});

describe("what an exchange tells about itself", () => {
  it("times connecting, waiting for the answer and the whole exchange; an IP address needs no lookup", async () => {
    const result = await client.request({ url: `${first.origin}/timed`, timeoutMs: 5_000 });
    expect(result.ok).toBe(true);
    const timings = result.timings!;
    expect(timings).not.toHaveProperty("dnsMs");
    expect(timings.connectMs).toBeGreaterThanOrEqual(0);
    expect(timings.firstByteMs).toBeGreaterThanOrEqual(0);
    // Each is in tenths; their sum in floating point may carry a last-digit error (0.3 + 0.3).
    expect(timings.totalMs).toBeGreaterThanOrEqual(timings.connectMs! + timings.firstByteMs! - 1e-9);
    expect(result.redirects).toBe(0);
  });

  it("times the lookup of a name, over the IP family asked for", async () => {
    const port = new URL(first.origin).port;
    const result = await client.request({ url: `http://localhost:${port}/named`, ipFamily: 4, timeoutMs: 5_000 });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.timings!.dnsMs).toBeGreaterThanOrEqual(0);
  });

  it("refuses an IP family the URL's address does not have, sending nothing", async () => {
    const result = failed(await client.request({ url: `${first.origin}/v6`, ipFamily: 6, timeoutMs: 5_000 }));
    expect(result).toMatchObject({ kind: "network", phase: "dns", code: "EFAMILY" });
    expect(first.requests).toEqual([]);
  });

  it("gives a non-2xx answer's headers and URL with its status", async () => {
    first.answer({ status: 503, body: "down", headers: { "retry-after": "30" } });
    const result = failed(await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000 }));
    expect(result).toMatchObject({ kind: "status", status: 503, url: `${first.origin}/x` });
    expect(result.headers?.get("retry-after")).toBe("30");
    expect(result.timings?.firstByteMs).toBeGreaterThanOrEqual(0);
  });

  it("takes a 3xx as the answer when asked to, following nothing", async () => {
    first.answer({ status: 301, headers: { location: `${second.origin}/moved` } });
    const result = failed(await client.request({ url: `${first.origin}/old`, timeoutMs: 5_000, redirect: "answer" }));
    expect(result).toMatchObject({ kind: "status", status: 301, redirects: 0 });
    expect(result.headers?.get("location")).toBe(`${second.origin}/moved`);
    expect(second.requests).toEqual([]);
  });

  it("counts the redirects it followed", async () => {
    first.answerNext({ status: 302, headers: { location: "/one" } }, { status: 302, headers: { location: "/two" } });
    const result = await client.request({ url: `${first.origin}/zero`, timeoutMs: 5_000, redirect: { follow: 5 } });
    expect(result).toMatchObject({ ok: true, redirects: 2, url: `${first.origin}/two` });
  });
});

describe("the address policy", () => {
  it("refuses an address the policy rejects, with its words, sending nothing", async () => {
    const result = failed(
      await client.request({ url: `${first.origin}/x`, timeoutMs: 5_000, addressPolicy: () => "loopback targets are not allowed; set VANTAGE_ALLOW_LOOPBACK" }),
    );
    expect(result).toMatchObject({ kind: "address_refused", retryable: false, phase: "policy", code: "ADDRESS_REFUSED" });
    expect(result.message).toBe(
      `Did not connect to ${first.origin}: refused to connect to 127.0.0.1: loopback targets are not allowed; set VANTAGE_ALLOW_LOOPBACK`,
    );
    expect(first.requests).toEqual([]);
  });

  it("judges the address of every redirect's target too", async () => {
    const port = new URL(second.origin).port;
    first.answer({ status: 302, headers: { location: `http://localhost:${port}/inside` } });
    const judged: string[] = [];
    const policy = (address: string) => {
      judged.push(address);
      return judged.length > 1 ? "refused on the second hop" : undefined;
    };

    const result = failed(await client.request({ url: `${first.origin}/out`, ipFamily: 4, timeoutMs: 5_000, redirect: { follow: 3 }, addressPolicy: policy }));

    expect(result.kind).toBe("address_refused");
    expect(judged).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toEqual([]);
  });
});

describe("https", () => {
  let ca: TestCa;
  let trusted: HttpReceiver;
  let selfSigned: HttpReceiver;
  let namedOnly: HttpReceiver;

  beforeAll(async () => {
    ca = await createTestCa();
    trusted = await startHttpReceiver({ tls: await ca.issue() });
    selfSigned = await startHttpReceiver({ tls: await selfSignedCertificate() });
    namedOnly = await startHttpReceiver({ tls: await ca.issue({ names: ["probe.test"], ips: [] }) });
  });
  afterAll(async () => {
    await Promise.all([trusted?.close(), selfSigned?.close(), namedOnly?.close()]);
  });
  beforeEach(() => {
    for (const receiver of [trusted, selfSigned, namedOnly]) {
      receiver.requests.length = 0;
      receiver.answer({ status: 200, body: "ok" });
    }
  });

  it("verifies by default: a certificate no trusted CA signed is a TLS failure, and nothing is sent", async () => {
    const result = failed(await client.request({ url: `${trusted.origin}/x`, timeoutMs: 5_000 }));
    expect(result).toMatchObject({ kind: "network", phase: "tls", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    expect(result.message).toContain("not signed by a trusted CA");
    expect(result.peerCertificate?.issuer).toBe("CN=Vantage Test CA");
    expect(trusted.requests).toEqual([]);
  });

  it("trusts an extra CA given with the request and reports the server's certificate and handshake time", async () => {
    const result = await client.request({ url: `${trusted.origin}/x`, timeoutMs: 5_000, tls: { ca: ca.cert } });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.peerCertificate).toMatchObject({ subject: "CN=localhost", issuer: "CN=Vantage Test CA" });
    expect(Date.parse(result.peerCertificate!.validTo)).toBeGreaterThan(Date.now());
    expect(result.timings!.tlsMs).toBeGreaterThanOrEqual(0);
  });

  it("reaches a self-signed server with verification off", async () => {
    expect(failed(await client.request({ url: `${selfSigned.origin}/x`, timeoutMs: 5_000 })).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    const result = await client.request({ url: `${selfSigned.origin}/x`, timeoutMs: 5_000, tls: { verify: false } });
    expect(result).toMatchObject({ ok: true, status: 200 });
  });

  it("refuses an extra CA that does not parse as an invalid request", async () => {
    const result = failed(
      await client.request({ url: `${trusted.origin}/x`, timeoutMs: 5_000, tls: { ca: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" } }),
    );
    expect(result).toMatchObject({ kind: "invalid_request", retryable: false, phase: "setup", code: "INVALID_CA" });
    expect(trusted.requests).toEqual([]);
  });

  it("verifies the server name it is given for the URL's own host, and a redirect's host by its own name", async () => {
    const port = new URL(trusted.origin).port;
    expect(failed(await client.request({ url: `${namedOnly.origin}/x`, timeoutMs: 5_000, tls: { ca: ca.cert } })).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");

    namedOnly.answer({ status: 302, headers: { location: `https://localhost:${port}/landed` } });
    const result = await client.request({
      url: `${namedOnly.origin}/x`,
      ipFamily: 4,
      timeoutMs: 5_000,
      tls: { ca: ca.cert, serverName: "probe.test" },
      redirect: { follow: 1 },
    });

    expect(result).toMatchObject({ ok: true, url: `https://localhost:${port}/landed` });
    // The certificate of the server that answered last.
    expect(result.peerCertificate?.subjectAltNames).toContain("DNS:localhost");
  });
});

describe("keeping connections for reuse (webhooks and notifications)", () => {
  /** A receiver that counts the connections it accepted and the ones still open. */
  async function countingReceiver(body = "ok") {
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end(body));
    });
    const counts = { accepted: 0, open: 0 };
    const closed: Array<() => void> = [];
    server.on("connection", (socket) => {
      counts.accepted++;
      counts.open++;
      socket.on("close", () => {
        counts.open--;
        closed.splice(0).forEach((resolve) => resolve());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      counts,
      /** Resolves at the next connection the receiver sees closed. */
      nextClose: () => new Promise<void>((resolve) => closed.push(resolve)),
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it("sends the requests that ask for it over one connection, and opens one per request for the others", async () => {
    const receiver = await countingReceiver();
    const reusing = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });
    try {
      for (let i = 0; i < 3; i++) {
        const result = await reusing.request({ url: `${receiver.origin}/hook`, method: "POST", body: "{}", timeoutMs: 2_000, reuseConnection: true });
        expect(result.ok).toBe(true);
      }
      expect(receiver.counts.accepted).toBe(1);
      for (let i = 0; i < 2; i++) expect((await reusing.request({ url: `${receiver.origin}/probe`, timeoutMs: 2_000 })).ok).toBe(true);
      expect(receiver.counts.accepted).toBe(3);
    } finally {
      reusing.close();
      await receiver.close();
    }
  });

  it("does not keep a connection whose answer it did not read to the end", async () => {
    const receiver = await countingReceiver("x".repeat(10_000));
    const reusing = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });
    try {
      for (let i = 0; i < 2; i++) {
        const result = await reusing.request({ url: `${receiver.origin}/hook`, timeoutMs: 2_000, maxBodyBytes: 10, reuseConnection: true });
        expect(result.ok && result.body).toBe("x".repeat(10));
      }
      expect(receiver.counts.accepted).toBe(2);
    } finally {
      reusing.close();
      await receiver.close();
    }
  });

  it("ends the kept connections when the client is closed", async () => {
    const receiver = await countingReceiver();
    const reusing = createOutboundClient({ userAgent: "Vantage/9.9.9-test" });
    try {
      expect((await reusing.request({ url: `${receiver.origin}/hook`, timeoutMs: 2_000, reuseConnection: true })).ok).toBe(true);
      expect(receiver.counts.open).toBe(1);
      const closed = receiver.nextClose();
      reusing.close();
      await closed;
      expect(receiver.counts.open).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});
