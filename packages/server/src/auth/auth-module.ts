// Users, API tokens and browser sessions as one part of the core: their stores, their routes
// (/auth, /users, /tokens) and the credentials the API guard resolves principals from.
import type { Hono } from "hono";
import type pg from "pg";
import type { AccountCredentials } from "./api-guard.ts";
import { createAuthRoutes } from "./auth-routes.ts";
import { type ClientAddressOf, createClientAddressOf, createIsHttpsOf, type IsHttpsOf } from "./client-address.ts";
import type { FailureLimit } from "./failure-window.ts";
import type { ScryptParams } from "./secrets.ts";
import { createSessionStore, type SessionLifetime } from "./sessions/session-store.ts";
import { createApiTokenRoutes } from "./tokens/api-token-routes.ts";
import { createApiTokenStore } from "./tokens/api-token-store.ts";
import { createPasswords } from "./users/passwords.ts";
import { createUserRoutes } from "./users/user-routes.ts";
import { createUserStore, type UserStore } from "./users/user-store.ts";

export interface AuthModuleOptions {
  pool: pg.Pool;
  /** The clock of sessions, token expiry and the login limiter, in epoch milliseconds. */
  now?: () => number;
  clientAddressOf?: ClientAddressOf;
  /** Whether a request came over https (to mark the cookie Secure); from the trusted proxies. */
  isHttpsOf?: IsHttpsOf;
  sessionLifetime?: SessionLifetime;
  /** Failed logins allowed per account and per client address in a window. */
  loginFailureLimit?: FailureLimit;
  /** The scrypt cost of passwords (default PASSWORD_PARAMS; tests lower it to stay fast). */
  passwordParams?: ScryptParams;
}

export interface AuthModule {
  readonly routes: Readonly<Record<string, Hono>>;
  /** What the API guard resolves API tokens and session cookies with. */
  readonly accounts: AccountCredentials;
  readonly users: UserStore;
}

export function createAuthModule(options: AuthModuleOptions): AuthModule {
  const { pool } = options;
  const now = options.now ?? Date.now;
  const users = createUserStore(pool, now);
  const tokens = createApiTokenStore(pool, now);
  const sessions = createSessionStore(pool, now, options.sessionLifetime);
  const passwords = createPasswords(options.passwordParams);
  const auth = createAuthRoutes({
    users,
    sessions,
    passwords,
    clientAddressOf: options.clientAddressOf ?? createClientAddressOf(),
    isHttpsOf: options.isHttpsOf ?? createIsHttpsOf(),
    loginFailureLimit: options.loginFailureLimit,
    now,
  });
  return {
    routes: { "/auth": auth, "/users": createUserRoutes(users, passwords), "/tokens": createApiTokenRoutes(tokens, now) },
    accounts: { tokens, sessions },
    users,
  };
}
