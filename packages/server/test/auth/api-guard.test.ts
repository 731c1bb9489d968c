// The API guard on /api/v1 with the admin token: 401 without the token, 429 past the failed-login limit (never for a valid token), body limits after auth.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type AdminTokenVerifier, createClientAddressOf, type FailureLimit } from "../../src/auth/index.ts";
import { createApp, MAX_API_BODY_BYTES } from "../../src/http/app.ts";
import { startHttpServer } from "../../src/http/http-server.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { silentLogger } from "../../src/log.ts";

const GOOD = "good-admin-token-123";
const verifyAdmin: AdminTokenVerifier = async (token) => (token === GOOD ? "valid" : "invalid");

/**
 * A verifier as for a chosen admin token (stored as scrypt): every check costs a slow hash
 * (counted), except of a token it already verified, which it answers even with slow: false.
 */
function slowVerifier(options: { gate?: Promise<void> } = {}) {
  const remembered = new Set<string>();
  const counts = { slow: 0 };
  const verify: AdminTokenVerifier = async (token, verifyOptions) => {
    if (remembered.has(token)) return "valid";
    if (verifyOptions?.slow === false) return "refused";
    counts.slow += 1;
    await options.gate;
    if (token !== GOOD) return "invalid";
    remembered.add(token);
    return "valid";
  };
  return { verify, counts };
}

function appWith(verify: AdminTokenVerifier, options: { failureLimit?: FailureLimit; now?: () => number; trustedProxies?: string[] } = {}) {
  return createApp({
    logger: silentLogger(),
    metrics: createMetrics({ collectProcessMetrics: false }),
    readiness: async () => ({ ready: true, checks: {} }),
    instanceId: "test-instance",
    api: {
      verifyAdmin: verify,
      routes: { "/echo": new Hono().get("/", (c) => c.json({ ok: true })) },
      failureLimit: options.failureLimit,
      now: options.now,
      clientAddressOf: options.trustedProxies ? createClientAddressOf(options.trustedProxies) : undefined,
    },
  });
}

function appWithApi() {
  const echo = new Hono();
  echo.get("/", (c) => c.json({ ok: true }));
  echo.post("/", async (c) => c.json({ length: (await c.req.text()).length }));
  return createApp({
    logger: silentLogger(),
    metrics: createMetrics({ collectProcessMetrics: false }),
    readiness: async () => ({ ready: true, checks: {} }),
    instanceId: "test-instance",
    api: { verifyAdmin, routes: { "/echo": echo } },
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("the API guard on /api/v1, with the admin token", () => {
  it("answers 401 with a Bearer challenge when no token is sent", async () => {
    const response = await appWithApi().request("/api/v1/echo");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="vantage"');
    expect(await response.json()).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("Authorization: Bearer") } });
  });

  it("answers 401 invalid_token for a wrong token, and for other schemes", async () => {
    for (const authorization of [`Bearer ${GOOD}x`, `Basic ${Buffer.from(`admin:${GOOD}`).toString("base64")}`, "Bearer", `Bearer ${GOOD} extra`]) {
      const response = await appWithApi().request("/api/v1/echo", { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const wrong = await appWithApi().request("/api/v1/echo", { headers: bearer("nope") });
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="vantage", error="invalid_token"');
  });

  it("answers 429 without a slow hash once a source sent too many wrong tokens, until its window passes", async () => {
    let clock = Date.parse("2026-11-27T12:00:00.000Z");
    const { verify, counts } = slowVerifier();
    const app = appWith(verify, { failureLimit: { max: 3, windowMs: 60_000 }, now: () => clock });
    const call = (token: string) => app.request("/api/v1/echo", { headers: bearer(token) });
    for (let attempt = 0; attempt < 3; attempt++) expect((await call(`wrong-${attempt}`)).status).toBe(401);
    expect(counts.slow).toBe(3);

    const limited = await call("wrong-again");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ error: { code: "too_many_auth_failures" } });
    expect((await call(GOOD)).status).toBe(429); // only a slow hash could tell, and none is spent
    expect(counts.slow).toBe(3);

    clock += 60_000;
    expect((await call(GOOD)).status).toBe(200);
  });

  it("counts Retry-After down to the end of the window", async () => {
    let clock = Date.parse("2026-11-27T12:00:00.000Z");
    const app = appWith(slowVerifier().verify, { failureLimit: { max: 2, windowMs: 60_000 }, now: () => clock });
    const call = () => app.request("/api/v1/echo", { headers: bearer("wrong") });
    await call();
    clock += 5_000;
    await call(); // the window opened with the first failure: it ends 60 s after it
    clock += 15_000;
    const after20s = await call();
    expect(after20s.status).toBe(429);
    expect(after20s.headers.get("retry-after")).toBe("40");
    expect((await after20s.json()) as unknown).toMatchObject({ error: { message: expect.stringContaining("in 40 s") } });
    clock += 39_500;
    expect((await call()).headers.get("retry-after")).toBe("1");
    clock += 500;
    expect((await call()).status).toBe(401);
  });

  it("spends at most the limit's slow hashes on 60 wrong tokens sent at once", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { verify, counts } = slowVerifier({ gate });
    const app = appWith(verify);
    const answers = Promise.all(Array.from({ length: 60 }, (_, index) => app.request("/api/v1/echo", { headers: bearer(`wrong-${index}`) })));
    await new Promise((resolve) => setImmediate(resolve)); // every request reached the guard
    open();
    const statuses = (await answers).map((response) => response.status);
    expect(counts.slow).toBe(10);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(50);
  });

  it("lets a token that verifies cheaply through while its address is over the limit", async () => {
    const { verify } = slowVerifier();
    const app = appWith(verify, { failureLimit: { max: 3, windowMs: 60_000 } });
    const call = (token: string) => app.request("/api/v1/echo", { headers: bearer(token) });
    expect((await call(GOOD)).status).toBe(200); // verified once: remembered by its SHA-256
    for (let attempt = 0; attempt < 5; attempt++) await call(`wrong-${attempt}`);
    expect((await call("wrong-again")).status).toBe(429);
    expect((await call(GOOD)).status).toBe(200);
    // A generated token is stored as SHA-256: it is always checked, over the limit or not.
    const cheap = appWith(verifyAdmin, { failureLimit: { max: 3, windowMs: 60_000 } });
    for (let attempt = 0; attempt < 5; attempt++) await cheap.request("/api/v1/echo", { headers: bearer(`wrong-${attempt}`) });
    expect((await cheap.request("/api/v1/echo", { headers: bearer("wrong") })).status).toBe(429);
    expect((await cheap.request("/api/v1/echo", { headers: bearer(GOOD) })).status).toBe(200);
  });

  it("behind a trusted proxy, counts failures per forwarded client, so one client's wrong tokens lock out no other", async () => {
    const call = async (url: string, token: string, forwardedFor: string) =>
      (await fetch(`${url}/api/v1/echo`, { headers: { ...bearer(token), "x-forwarded-for": forwardedFor } })).status;
    for (const trustedProxies of [["127.0.0.0/8"], undefined]) {
      const http = await startHttpServer(appWith(slowVerifier().verify, { failureLimit: { max: 3, windowMs: 60_000 }, trustedProxies }), {
        host: "127.0.0.1",
        port: 0,
      });
      try {
        for (let attempt = 0; attempt < 3; attempt++) expect(await call(http.url, "wrong", "203.0.113.1")).toBe(401);
        expect(await call(http.url, "wrong", "203.0.113.1")).toBe(429);
        if (trustedProxies) {
          expect(await call(http.url, "wrong", "203.0.113.2")).toBe(401);
          expect(await call(http.url, GOOD, "203.0.113.2")).toBe(200);
          // What a client writes to the left of the proxy's hop is not believed.
          expect(await call(http.url, "wrong", "203.0.113.2, 203.0.113.1")).toBe(429);
        } else {
          // Without trusting the proxy every client is the proxy: the header changes nothing.
          expect(await call(http.url, GOOD, "203.0.113.2")).toBe(429);
        }
      } finally {
        await http.close();
      }
    }
  });

  it("lets the admin token through, whatever the scheme's case", async () => {
    const app = appWithApi();
    expect(await (await app.request("/api/v1/echo", { headers: bearer(GOOD) })).json()).toEqual({ ok: true });
    expect((await app.request("/api/v1/echo", { headers: { authorization: `bearer ${GOOD}` } })).status).toBe(200);
  });

  it("guards unknown API paths too, and leaves health endpoints open", async () => {
    const app = appWithApi();
    expect((await app.request("/api/v1/nothing")).status).toBe(401);
    expect((await app.request("/api/v1/nothing", { headers: bearer(GOOD) })).status).toBe(404);
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("refuses a body over 64 KiB with 413, and reads one just under it", async () => {
    const app = appWithApi();
    const post = (body: string) => app.request("/api/v1/echo", { method: "POST", headers: bearer(GOOD), body });
    const tooLarge = await post("x".repeat(MAX_API_BODY_BYTES + 1));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: "payload_too_large" } });
    expect(await (await post("x".repeat(MAX_API_BODY_BYTES))).json()).toEqual({ length: MAX_API_BODY_BYTES });
  });

  it("answers 401, not 413, to an oversized body without a token", async () => {
    const response = await appWithApi().request("/api/v1/echo", { method: "POST", body: "x".repeat(MAX_API_BODY_BYTES + 1) });
    expect(response.status).toBe(401);
  });
});
