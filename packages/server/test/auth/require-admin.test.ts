import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AdminTokenVerifier } from "../../src/auth/index.ts";
import { createApp, MAX_API_BODY_BYTES } from "../../src/http/app.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { silentLogger } from "../../src/log.ts";

const GOOD = "good-admin-token-123";
const verifyAdmin: AdminTokenVerifier = async (token) => token === GOOD;

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

describe("the admin guard on /api/v1", () => {
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

  it("answers 429 without checking the token once a source sent too many wrong ones, until its window passes", async () => {
    let clock = Date.parse("2026-11-27T12:00:00.000Z");
    let checked = 0;
    const counting: AdminTokenVerifier = async (token) => (checked++, token === GOOD);
    const app = createApp({
      logger: silentLogger(),
      metrics: createMetrics({ collectProcessMetrics: false }),
      readiness: async () => ({ ready: true, checks: {} }),
      instanceId: "test-instance",
      api: { verifyAdmin: counting, routes: { "/echo": new Hono().get("/", (c) => c.json({ ok: true })) }, failureLimit: { max: 3, windowMs: 60_000 }, now: () => clock },
    });
    const call = (token: string) => app.request("/api/v1/echo", { headers: bearer(token) });
    expect((await call(GOOD)).status).toBe(200);
    for (let attempt = 0; attempt < 3; attempt++) expect((await call(`wrong-${attempt}`)).status).toBe(401);
    expect(checked).toBe(4);

    const limited = await call("wrong-again");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ error: { code: "too_many_auth_failures" } });
    expect((await call(GOOD)).status).toBe(429);
    expect(checked).toBe(4); // nothing hashed while limited

    clock += 60_000;
    expect((await call(GOOD)).status).toBe(200);
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
