// Users, API tokens and browser sessions through the API: login and its cookie, CSRF on a
// session's writes, session expiry on an injected clock, the login limit, tokens shown once
// and revoked, and the actor each kind of credential records on the changes it makes.
import { randomUUID } from "node:crypto";
import { HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSatelliteRoutes, SatelliteRegistry, SatelliteService } from "../../src/satellites/index.ts";
import { callApi, createApiApp } from "../support/api/api-app.ts";
import { createToken, createUser, login } from "../support/auth/accounts.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";

let clock = Date.parse("2026-12-01T09:00:00.000Z");
const IDLE_MS = 30 * 60_000;
const ABSOLUTE_MS = 8 * 3600_000;

let instance: TestInstance;
let satellites: SatelliteService;
let app: Hono;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "accounts");
  satellites = new SatelliteService({ pool: instance.pool, entities: instance.entities, now: () => clock });
  const registry = new SatelliteRegistry({ pool: instance.pool, satellites, now: () => clock });
  app = await createApiApp(
    instance.pool,
    { "/satellites": createSatelliteRoutes({ registry, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS }) },
    {
      now: () => clock,
      sessionLifetime: { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS },
      loginFailureLimit: { max: 3, windowMs: 60_000 },
      // Requests through app.request() have no peer: a test names the client address it limits,
      // and every other request comes from an address of its own.
      clientAddressOf: (_peer, headers) => String(headers["x-forwarded-for"] ?? randomUUID()),
    },
  );
});

afterAll(async () => {
  await instance?.stop();
});

let satellitesCreated = 0;
/** A satellite with connection state, so that edits of it are recorded changes. */
async function connectedSatellite(): Promise<string> {
  satellitesCreated += 1;
  const answer = await callApi<{ id: string }>(app, "POST", "/api/v1/satellites", { name: `edge-${satellitesCreated}`, region: "eu-west" });
  await satellites.markConnected({ satelliteId: answer.body.id, sessionId: randomUUID() });
  return answer.body.id;
}

async function lastActorOf(satelliteId: string): Promise<unknown> {
  const { rows } = await instance.pool.query<{ actor: unknown }>("SELECT actor FROM entity_changes WHERE entity_id = $1 ORDER BY seq DESC LIMIT 1", [
    satelliteId,
  ]);
  return rows[0]?.actor;
}

describe("users", () => {
  it("lets the admin token create the first admin, who logs in with a session cookie", async () => {
    const created = await callApi(app, "POST", "/api/v1/users", { email: " First@Example.COM ", role: "admin" });
    expect(created.status, created.text).toBe(201);
    // Generated when none is given, and shown only in this answer.
    expect(created.body).toMatchObject({ email: "first@example.com", role: "admin", disabled: false, password: expect.stringMatching(/^[\w-]{24}$/) });
    const listed = await callApi<{ users: Array<Record<string, unknown>> }>(app, "GET", "/api/v1/users");
    expect(listed.body.users.find((user) => user.email === "first@example.com")).not.toHaveProperty("password");

    const response = await app.request("/api/v1/auth/login", {
      method: "POST",
      body: JSON.stringify({ email: "first@example.com", password: created.body.password }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^vantage_session=[\w-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/api/");
    expect(cookie).not.toContain("Secure"); // plain http, no trusted proxy saying https
    expect(await response.json()).toMatchObject({ role: "admin", actor: { type: "user", name: "first@example.com" }, csrfToken: expect.any(String) });
  });

  it("refuses a second user with the same e-mail, whatever its case", async () => {
    await createUser(app, "twice@example.com", "viewer");
    const again = await callApi(app, "POST", "/api/v1/users", { email: "TWICE@example.com", role: "admin", password: "another long password" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "user_email_taken" } });
  });

  it("refuses a short password and an unknown role at their paths", async () => {
    const answer = await callApi<{ error: { details: { issues: Array<{ path: string }> } } }>(app, "POST", "/api/v1/users", {
      email: "weak@example.com",
      role: "owner",
      password: "short",
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.issues.map((issue) => issue.path).sort()).toEqual(["password", "role"]);
  });

  it("answers a wrong password and an unknown e-mail alike, with 401 invalid_credentials", async () => {
    const user = await createUser(app, "wrong@example.com", "viewer");
    for (const body of [
      { email: user.email, password: "not the password" },
      { email: "nobody@example.com", password: user.password },
    ]) {
      const answer = await callApi(app, "POST", "/api/v1/auth/login", body, null);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "invalid_credentials" } });
    }
  });

  it("ends a disabled user's sessions and refuses its login; a role change applies at once", async () => {
    const user = await createUser(app, "leaver@example.com", "editor");
    const browser = await login(app, user.email, user.password);
    expect((await browser.call("GET", "/auth/me")).body).toMatchObject({ role: "editor" });

    await callApi(app, "PATCH", `/api/v1/users/${user.id}`, { role: "viewer" });
    expect((await browser.call("GET", "/auth/me")).body).toMatchObject({ role: "viewer" });

    expect((await callApi(app, "PATCH", `/api/v1/users/${user.id}`, { disabled: true })).body).toMatchObject({ disabled: true });
    expect((await browser.call("GET", "/auth/me")).status).toBe(401);
    expect((await callApi(app, "POST", "/api/v1/auth/login", { email: user.email, password: user.password }, null)).status).toBe(401);
  });

  it("deletes a user, and its sessions and tokens with it", async () => {
    const user = await createUser(app, "gone@example.com", "admin");
    const browser = await login(app, user.email, user.password);
    const token = await createToken(app, "viewer", "gone's token", undefined);
    const own = await browser.call<{ token: string }>("POST", "/tokens", { name: "own", role: "editor" });
    expect(own.status).toBe(201);

    expect((await callApi(app, "DELETE", `/api/v1/users/${user.id}`)).status).toBe(204);
    expect((await browser.call("GET", "/auth/me")).status).toBe(401);
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, own.body.token)).status).toBe(401);
    // A token the admin token created belongs to nobody: it stays.
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, token.token)).status).toBe(200);
    expect((await callApi(app, "GET", `/api/v1/users/${user.id}`)).status).toBe(404);
  });
});

describe("browser sessions", () => {
  it("refuses a cookie-authenticated write without the session's CSRF token, and takes it with", async () => {
    const user = await createUser(app, "csrf@example.com", "editor");
    const browser = await login(app, user.email, user.password);
    const body = { name: "csrf-edge", region: "eu-west" };

    for (const csrfToken of [undefined, "forged", browser.csrfToken.slice(1)]) {
      const headers: Record<string, string> = { cookie: browser.cookie };
      if (csrfToken !== undefined) headers["x-csrf-token"] = csrfToken;
      const refused = await app.request("/api/v1/satellites", { method: "POST", headers, body: JSON.stringify(body) });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: "csrf_token_invalid" } });
    }
    expect((await callApi(app, "GET", "/api/v1/satellites")).body).not.toMatchObject({ satellites: [expect.objectContaining({ name: "csrf-edge" })] });

    expect((await browser.call("GET", "/satellites", undefined, { csrf: false })).status).toBe(200); // reads need none
    expect((await browser.call("POST", "/satellites", body)).status).toBe(201);
    expect((await browser.call("GET", "/auth/me")).body).toMatchObject({ csrfToken: browser.csrfToken });
  });

  it("needs no CSRF token with a bearer token, even beside a cookie", async () => {
    const user = await createUser(app, "both@example.com", "editor");
    const browser = await login(app, user.email, user.password);
    const { token } = await createToken(app, "editor");
    const response = await app.request("/api/v1/satellites", {
      method: "POST",
      headers: { cookie: browser.cookie, authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: "bearer-edge", region: "eu-west" }),
    });
    expect(response.status).toBe(201);
  });

  it("ends a session idle for longer than the idle timeout", async () => {
    const user = await createUser(app, "idle@example.com", "viewer");
    const browser = await login(app, user.email, user.password);
    clock += IDLE_MS - 60_000;
    expect((await browser.call("GET", "/auth/me")).status).toBe(200); // used: the idle period starts again
    clock += IDLE_MS - 60_000;
    expect((await browser.call("GET", "/auth/me")).status).toBe(200);
    clock += IDLE_MS;
    const ended = await browser.call("GET", "/auth/me");
    expect(ended.status).toBe(401);
    expect(ended.body).toMatchObject({ error: { code: "unauthorized", message: expect.stringContaining("log in again") } });
  });

  it("ends a session at its absolute expiry, however busy", async () => {
    const user = await createUser(app, "busy@example.com", "viewer");
    const browser = await login(app, user.email, user.password);
    const { expiresAt } = (await browser.call<{ expiresAt: string }>("GET", "/auth/me")).body;
    expect(Date.parse(expiresAt)).toBe(clock + ABSOLUTE_MS);
    for (let elapsed = 0; elapsed < ABSOLUTE_MS - IDLE_MS / 2; elapsed += IDLE_MS / 2) {
      clock += IDLE_MS / 2;
      expect((await browser.call("GET", "/auth/me")).status).toBe(200);
    }
    clock = Date.parse(expiresAt);
    expect((await browser.call("GET", "/auth/me")).status).toBe(401);
  });

  it("ends the session at logout, and clears the cookie", async () => {
    const user = await createUser(app, "logout@example.com", "viewer");
    const browser = await login(app, user.email, user.password);
    const response = await app.request("/api/v1/auth/logout", { method: "POST", headers: { cookie: browser.cookie, "x-csrf-token": browser.csrfToken } });
    expect(response.status).toBe(204);
    expect(response.headers.get("set-cookie")).toMatch(/^vantage_session=; Max-Age=0; Path=\/api\//);
    expect((await browser.call("GET", "/auth/me")).status).toBe(401);
  });

  it("limits failed logins per account, from any address, until the window passes", async () => {
    const user = await createUser(app, "guessed@example.com", "viewer");
    const attempt = (password: string, from: string) =>
      app.request("/api/v1/auth/login", { method: "POST", headers: { "x-forwarded-for": from }, body: JSON.stringify({ email: user.email, password }) });
    for (let index = 0; index < 3; index++) expect((await attempt(`wrong ${index}`, `203.0.113.${index}`)).status).toBe(401);
    const limited = await attempt(user.password, "203.0.113.200");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ error: { code: "too_many_auth_failures" } });

    clock += 60_000;
    expect((await attempt(user.password, "203.0.113.200")).status).toBe(200);
  });

  it("limits failed logins per client address, to any account", async () => {
    const victims = await Promise.all([1, 2, 3, 4].map((index) => createUser(app, `victim-${index}@example.com`, "viewer")));
    const attempt = (email: string, password: string, from: string) =>
      app.request("/api/v1/auth/login", { method: "POST", headers: { "x-forwarded-for": from }, body: JSON.stringify({ email, password }) });
    for (const victim of victims.slice(0, 3)) expect((await attempt(victim.email, "guess", "198.51.100.7")).status).toBe(401);
    expect((await attempt(victims[3]!.email, victims[3]!.password, "198.51.100.7")).status).toBe(429);
    // Another address is not held back by this one's failures.
    expect((await attempt(victims[3]!.email, victims[3]!.password, "198.51.100.8")).status).toBe(200);
  });
});

describe("API tokens", () => {
  it("shows a vtk_ token once, lists it without its secret, and records when it was last used, at most once a minute", async () => {
    const created = await callApi<{ id: string; token: string }>(app, "POST", "/api/v1/tokens", { name: "ci", role: "viewer" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "ci", role: "viewer", createdBy: { type: "token", id: "admin" }, lastUsedAt: null, expiresAt: null });
    expect(created.body.token).toMatch(/^vtk_[\w-]{43}$/);
    const stored = await instance.pool.query<{ token_hash: string }>("SELECT token_hash FROM api_tokens WHERE id = $1", [created.body.id]);
    expect(stored.rows[0]!.token_hash).toMatch(/^sha256\$/);

    const lastUsed = async () =>
      (await callApi<{ tokens: Array<Record<string, unknown>> }>(app, "GET", "/api/v1/tokens")).body.tokens.find((token) => token.id === created.body.id)!;
    expect(await lastUsed()).not.toHaveProperty("token");
    const first = clock;
    expect((await callApi(app, "GET", "/api/v1/satellites", undefined, created.body.token)).status).toBe(200);
    expect((await lastUsed()).lastUsedAt).toBe(new Date(first).toISOString());
    clock += 30_000;
    await callApi(app, "GET", "/api/v1/satellites", undefined, created.body.token);
    expect((await lastUsed()).lastUsedAt).toBe(new Date(first).toISOString());
    clock += 30_000;
    await callApi(app, "GET", "/api/v1/satellites", undefined, created.body.token);
    expect((await lastUsed()).lastUsedAt).toBe(new Date(clock).toISOString());
  });

  it("refuses a revoked token at once, and an expired one", async () => {
    const { id, token } = await createToken(app, "editor");
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, token)).status).toBe(200);
    expect((await callApi(app, "DELETE", `/api/v1/tokens/${id}`)).status).toBe(204);
    const refused = await callApi(app, "GET", "/api/v1/auth/me", undefined, token);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: "unauthorized" } });
    expect((await callApi(app, "DELETE", `/api/v1/tokens/${id}`)).body).toMatchObject({ error: { code: "api_token_not_found" } });

    const expiring = await callApi<{ token: string }>(app, "POST", "/api/v1/tokens", {
      name: "short",
      role: "viewer",
      expiresAt: new Date(clock + 60_000).toISOString(),
    });
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, expiring.body.token)).status).toBe(200);
    clock += 60_000;
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, expiring.body.token)).status).toBe(401);
    const past = await callApi(app, "POST", "/api/v1/tokens", { name: "past", role: "viewer", expiresAt: new Date(clock).toISOString() });
    expect(past.status).toBe(400);
  });

  it("never acts above its owner's current role", async () => {
    const owner = await createUser(app, "owner@example.com", "admin");
    const browser = await login(app, owner.email, owner.password);
    const { token } = (await browser.call<{ token: string }>("POST", "/tokens", { name: "owner's", role: "admin" })).body;
    await callApi(app, "PATCH", `/api/v1/users/${owner.id}`, { role: "viewer" });
    expect((await callApi(app, "GET", "/api/v1/auth/me", undefined, token)).body).toMatchObject({ role: "viewer", user: { id: owner.id } });
    expect((await callApi(app, "POST", "/api/v1/satellites", { name: "demoted-edge", region: "eu-west" }, token)).status).toBe(403);
  });
});

describe("the actor of a write", () => {
  it("is the API token that made it, the user of the session, or the admin token", async () => {
    const { id, token } = await createToken(app, "editor", "deploy bot");
    const satelliteId = await connectedSatellite();
    expect((await callApi(app, "PATCH", `/api/v1/satellites/${satelliteId}`, { region: "us-east" }, token)).status).toBe(200);
    expect(await lastActorOf(satelliteId)).toEqual({ type: "token", id, name: "deploy bot" });

    const user = await createUser(app, "actor@example.com", "editor");
    const browser = await login(app, user.email, user.password);
    expect((await browser.call("PATCH", `/satellites/${satelliteId}`, { region: "ap-south" })).status).toBe(200);
    expect(await lastActorOf(satelliteId)).toEqual({ type: "user", id: user.id, name: user.email });

    expect((await callApi(app, "DELETE", `/api/v1/satellites/${satelliteId}`)).status).toBe(204);
    expect(await lastActorOf(satelliteId)).toEqual({ type: "token", id: "admin", name: "admin token" });
  });
});
