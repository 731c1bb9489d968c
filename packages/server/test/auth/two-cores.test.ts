// Credentials across core processes: two apps over one database, each with its own pool, as two
// cores behind a load balancer. A token revoked or a session ended on one is refused by the
// other on the very next request (they are read by hash per request, never cached).
import type { Hono } from "hono";
import { afterAll, beforeAll, expect, it } from "vitest";
import { callApi, createModulesApp } from "../support/api/api-app.ts";
import { createToken, createUser, login } from "../support/auth/accounts.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";

let first: TestInstance;
let second: TestInstance;
let coreA: Hono;
let coreB: Hono;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  first = await startTestInstance(url, "auth-core-a");
  second = await startTestInstance(url, "auth-core-b");
  coreA = await createModulesApp(first.pool, []);
  coreB = await createModulesApp(second.pool, []);
});

afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

it("refuses on one core a token revoked on the other, at once", async () => {
  const { id, token } = await createToken(coreA, "viewer");
  expect((await callApi(coreB, "GET", "/api/v1/auth/me", undefined, token)).status).toBe(200);
  expect((await callApi(coreA, "DELETE", `/api/v1/tokens/${id}`)).status).toBe(204);
  expect((await callApi(coreB, "GET", "/api/v1/auth/me", undefined, token)).status).toBe(401);
});

it("takes on one core a session started on the other, and refuses it once logged out there", async () => {
  const user = await createUser(coreA, "roaming@example.com", "editor");
  const onA = await login(coreA, user.email, user.password);
  const onB = (path: string) => coreB.request(`/api/v1${path}`, { headers: { cookie: onA.cookie } });
  expect((await onB("/auth/me")).status).toBe(200);
  expect((await onA.call("POST", "/auth/logout")).status).toBe(204);
  expect((await onB("/auth/me")).status).toBe(401);
});
