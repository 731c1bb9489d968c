// The core's HTTP app with the admin API as API tests need it (no socket: app.request()), and
// one way to call it, so every API test speaks to the app the same way.
import type { Hono } from "hono";
import type pg from "pg";
import { type AuthModuleOptions, createAdminTokenVerifier, createAuthModule, ensureAdminToken } from "../../../src/auth/index.ts";
import { createCoreApp } from "../../../src/core-app.ts";
import type { CoreModule } from "../../../src/core-module.ts";
import { createMetrics } from "../../../src/http/metrics.ts";
import { silentLogger } from "../../../src/log.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** A cheap scrypt cost for test users' passwords: the production cost takes seconds on a loaded test machine. */
export const TEST_PASSWORD_PARAMS = Object.freeze({ N: 1024, r: 8, p: 1 });

export interface Answer<Body = Record<string, unknown>> {
  status: number;
  body: Body;
  text: string;
}

/** What the users, tokens and sessions of a test app run on (the clock, session lifetimes, the login limit). */
export type TestAuthOptions = Omit<AuthModuleOptions, "pool">;

/**
 * Stores TEST_ADMIN_TOKEN as the admin token and serves the modules' routes as the core does,
 * with the auth module's (/auth, /users, /tokens) beside them.
 */
export async function createModulesApp(
  pool: pg.Pool,
  modules: ReadonlyArray<Pick<CoreModule, "routes" | "publicRoutes" | "bodyLimits">>,
  authOptions: TestAuthOptions = {},
): Promise<Hono> {
  await ensureAdminToken({ pool, logger: silentLogger(), configuredToken: TEST_ADMIN_TOKEN });
  const auth = createAuthModule({ pool, passwordParams: TEST_PASSWORD_PARAMS, ...authOptions });
  return createCoreApp({
    logger: silentLogger(),
    metrics: createMetrics({ collectProcessMetrics: false }),
    readiness: async () => ({ ready: true, checks: {} }),
    instanceId: "test-instance",
    verifyAdmin: createAdminTokenVerifier({ pool }),
    accounts: auth.accounts,
    modules: [auth, ...modules],
  });
}

/** The same app serving just `routes`, by mount path under /api/v1. */
export function createApiApp(pool: pg.Pool, routes: Record<string, Hono>, authOptions?: TestAuthOptions): Promise<Hono> {
  return createModulesApp(pool, [{ routes }], authOptions);
}

/** One request as the admin (or with `token`; null sends none); a string body is sent as is. */
export async function callApi<Body = Record<string, unknown>>(
  app: Hono,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TEST_ADMIN_TOKEN,
): Promise<Answer<Body>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await app.request(path, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, text, body: text === "" ? ({} as Body) : (JSON.parse(text) as Body) };
}
