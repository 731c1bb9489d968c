// Roles on every route of the real API: a viewer is refused every write, route by route as the
// full app registers them (so a new route cannot forget it), and an editor is refused users and
// tokens (and setting config secrets). Both with an API token and with a browser session.
import type { Role } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { callApi } from "../support/api/api-app.ts";
import { useFullApiApp } from "../support/api/full-api-app.ts";
import { createToken, createUser, login } from "../support/auth/accounts.ts";

const api = useFullApiApp("api-roles");

/** Writes anyone signed in may make: login (no credentials at all) and logout. */
const SELF_SERVICE = new Set(["POST /api/v1/auth/login", "POST /api/v1/auth/logout"]);

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const SOME_ID = "00000000-0000-4000-8000-000000000000";

/** Every write route of the app, its parameters filled in (`:id` → a uuid, `:kind` → a word). */
function writeRoutes(): Array<{ method: string; path: string; route: string }> {
  const seen = new Set<string>();
  const routes = [];
  for (const { method, path } of api.app.routes) {
    const route = `${method} ${path}`;
    if (!WRITE_METHODS.has(method) || !path.startsWith("/api/v1/") || seen.has(route) || SELF_SERVICE.has(route)) continue;
    seen.add(route);
    routes.push({ method, route, path: path.replace(/:(\w+)(\{[^}]*\})?/g, (_match, name: string) => (/id$/i.test(name) ? SOME_ID : "satellite-connection")) });
  }
  return routes;
}

async function expectRefusedEverywhere(role: Role, call: (method: string, path: string) => Promise<{ status: number; body: unknown }>) {
  const routes = writeRoutes();
  // The full API has dozens of writes: an empty list would prove nothing.
  expect(routes.length).toBeGreaterThan(20);
  for (const { method, path, route } of routes) {
    const answer = await call(method, path);
    expect(answer.status, `${role}: ${route}`).toBe(403);
    expect(answer.body, route).toMatchObject({ error: { code: "forbidden" } });
  }
}

describe("a viewer", () => {
  it("gets 403 forbidden on every write route, with an API token", async () => {
    const { token } = await createToken(api.app, "viewer");
    await expectRefusedEverywhere("viewer", (method, path) => callApi(api.app, method, path, {}, token));
  });

  it("gets 403 forbidden on every write route, with a browser session and its CSRF token", async () => {
    const user = await createUser(api.app, "viewer@example.com", "viewer");
    const browser = await login(api.app, user.email, user.password);
    await expectRefusedEverywhere("viewer", (method, path) => browser.call(method, path.replace(/^\/api\/v1/, ""), {}));
  });

  it("reads, and may log out", async () => {
    const user = await createUser(api.app, "reader@example.com", "viewer");
    const browser = await login(api.app, user.email, user.password);
    for (const path of ["/satellites", "/checks", "/automations", "/notification-channels", "/auth/me"])
      expect((await browser.call("GET", path)).status, path).toBe(200);
    expect((await browser.call("POST", "/auth/logout")).status).toBe(204);
  });
});

describe("an editor", () => {
  it("is refused users, tokens and settings, for reads and writes alike", async () => {
    const { token } = await createToken(api.app, "editor");
    const someone = await createUser(api.app, "someone@example.com", "viewer");
    const attempts: Array<[string, string, unknown?]> = [
      ["GET", "/api/v1/users"],
      ["POST", "/api/v1/users", { email: "sneaky@example.com", role: "admin", password: "a long sneaky password" }],
      ["GET", `/api/v1/users/${someone.id}`],
      ["PATCH", `/api/v1/users/${someone.id}`, { role: "admin" }],
      ["DELETE", `/api/v1/users/${someone.id}`],
      ["GET", "/api/v1/tokens"],
      ["POST", "/api/v1/tokens", { name: "escalate", role: "admin" }],
      ["DELETE", `/api/v1/tokens/${SOME_ID}`],
      ["GET", "/api/v1/settings"],
      // Config secrets: an editor applies bundles naming them and may list their names, but only an admin sets one.
      ["PUT", "/api/v1/config/secrets/EDITOR_SET", { value: "a long enough value" }],
      ["DELETE", "/api/v1/config/secrets/EDITOR_SET"],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await callApi(api.app, method, path, body, token);
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
    expect((await callApi(api.app, "GET", `/api/v1/users/${someone.id}`)).body).toMatchObject({ role: "viewer" });
    expect((await callApi(api.app, "GET", "/api/v1/config/secrets", undefined, token)).status).toBe(200);
  });

  it("writes everything else", async () => {
    const { token } = await createToken(api.app, "editor");
    const created = await callApi(api.app, "POST", "/api/v1/satellites", { name: "editor-edge", region: "eu-west" }, token);
    expect(created.status, created.text).toBe(201);
  });
});

it("answers 401, not 403, to a write without credentials", async () => {
  const answer = await callApi(api.app, "POST", "/api/v1/satellites", { name: "anonymous", region: "eu-west" }, null);
  expect(answer.status).toBe(401);
});
