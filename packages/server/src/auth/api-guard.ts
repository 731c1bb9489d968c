// The one guard of every /api/v1 route: resolves who the request is (the admin token, an API
// token, a browser session), refuses what its role may not do (access-policy.ts), demands the
// CSRF header on a session's writes, and hands routes the principal whose actor writes record.
// Missing or wrong credentials get 401 with a WWW-Authenticate challenge (RFC 6750); a client
// over its failure limit gets 429 for any token that only a slow hash could check.
import { getConnInfo } from "@hono/node-server/conninfo";
import { API_TOKEN_PREFIX, CSRF_HEADER, type ErrorCode, roleAtLeast } from "@vantage/protocol";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import { errorBody } from "../errors.ts";
import { isReadMethod, requirementOf } from "./access-policy.ts";
import type { AdminTokenVerifier } from "./admin-token.ts";
import { type ClientAddressOf, createClientAddressOf } from "./client-address.ts";
import { type FailureLimit, FailureLimiter } from "./failure-window.ts";
import { ADMIN_PRINCIPAL, type Principal } from "./principal.ts";
import type { SessionStore } from "./sessions/session-store.ts";
import type { ApiTokenStore } from "./tokens/api-token-store.ts";

/** The browser session's cookie (HttpOnly, SameSite=Lax; Secure over https). */
export const SESSION_COOKIE = "vantage_session";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function unauthorized(c: Context, message: string, challenge: string): Response {
  c.header("WWW-Authenticate", challenge);
  return c.json(errorBody("unauthorized", message), 401);
}

const forbidden = (c: Context, code: ErrorCode, message: string): Response => c.json(errorBody(code, message), 403);

/** 429 too_many_auth_failures, with Retry-After counting down to when none of `keys` is limited. */
export function tooManyFailures(c: Context, failures: FailureLimiter, keys: readonly string[], what: string): Response {
  const seconds = Math.max(1, Math.ceil(failures.retryAfterMs(keys) / 1000));
  c.header("Retry-After", String(seconds));
  return c.json(errorBody("too_many_auth_failures", `${what}; try again in ${seconds} s.`), 429);
}

/** Wrong admin tokens allowed per client address and window: each may cost a slow hash. */
export const DEFAULT_ADMIN_FAILURE_LIMIT: FailureLimit = { max: 10, windowMs: 60_000 };

/** The TCP peer; requests without a socket (app.request() in tests) have none. */
export function peerOf(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** The request's client address (behind trusted proxies, the forwarded one). */
export function requestAddress(c: Context, clientAddressOf: ClientAddressOf): string {
  return clientAddressOf(peerOf(c), { forwarded: c.req.header("forwarded"), "x-forwarded-for": c.req.header("x-forwarded-for") });
}

/** Why a request was refused: no credentials, wrong ones, or a token refused unchecked over the limit. */
export const ADMIN_AUTH_FAILURES = ["missing", "invalid", "rate_limited"] as const;
export type AdminAuthFailure = (typeof ADMIN_AUTH_FAILURES)[number];

/** The users' credentials: API tokens and browser sessions (without them, only the admin token is known). */
export interface AccountCredentials {
  tokens: Pick<ApiTokenStore, "resolve">;
  sessions: Pick<SessionStore, "resolve">;
}

export interface ApiGuardOptions {
  accounts?: AccountCredentials | undefined;
  failureLimit?: FailureLimit | undefined;
  /** The clock, in epoch milliseconds. */
  now?: (() => number) | undefined;
  /** The client behind trusted proxies (default: the TCP peer, no header believed). */
  clientAddressOf?: ClientAddressOf | undefined;
  /** Told of every refused request (metrics). */
  onFailure?: (reason: AdminAuthFailure) => void;
}

/** Constant-time equality of two strings (a CSRF token and what the client sent). */
function sameSecret(sent: string, expected: string): boolean {
  const [a, b] = [Buffer.from(sent), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Failures count per client address from the moment a check starts, so a burst of wrong
 * tokens is cut at the limit however concurrent. Over the limit, a token is still checked
 * when that is cheap — an API token or a generated admin token (SHA-256), or one this process
 * already verified (VANTAGE_ADMIN_TOKEN always is) — so a flood of wrong tokens never locks
 * the admin out; only a check that would cost a slow hash is refused with 429 and Retry-After.
 */
export function apiGuard(verifyAdmin: AdminTokenVerifier, options: ApiGuardOptions = {}): MiddlewareHandler {
  const limit = options.failureLimit ?? DEFAULT_ADMIN_FAILURE_LIMIT;
  const failures = new FailureLimiter(limit, options.now ?? Date.now);
  const clientAddressOf = options.clientAddressOf ?? createClientAddressOf();
  const onFailure = options.onFailure ?? (() => undefined);
  const accounts = options.accounts;

  /** The principal of a bearer token, or the refusal to answer. */
  const bearerPrincipal = async (c: Context, token: string): Promise<Principal | Response> => {
    const address = requestAddress(c, clientAddressOf);
    const attempt = failures.begin([address]);
    if (accounts && token.startsWith(`${API_TOKEN_PREFIX}_`)) {
      const found = await accounts.tokens.resolve(token);
      if (found) {
        attempt?.succeeded();
        return { actor: { type: "token", id: found.id, name: found.name }, role: found.role, userId: found.userId };
      }
    } else if ((await verifyAdmin(token, { slow: attempt !== undefined })) === "valid") {
      attempt?.succeeded();
      return ADMIN_PRINCIPAL;
    } else if (!attempt) {
      // Only a slow hash could tell, and this address spent its allowance.
      onFailure("rate_limited");
      return tooManyFailures(c, failures, [address], `Too many wrong tokens from ${address}`);
    }
    attempt?.failed();
    onFailure("invalid");
    return unauthorized(c, "The bearer token is not valid (unknown, revoked or expired).", 'Bearer realm="vantage", error="invalid_token"');
  };

  /** The principal of a session cookie, or the refusal; a session's writes must carry its CSRF token. */
  const sessionPrincipal = async (c: Context, secret: string): Promise<Principal | Response> => {
    const session = await accounts!.sessions.resolve(secret);
    if (!session) {
      onFailure("invalid");
      return unauthorized(c, "The session has ended (logged out, expired or idle too long): log in again.", 'Bearer realm="vantage"');
    }
    if (!isReadMethod(c.req.method) && !sameSecret(c.req.header(CSRF_HEADER) ?? "", session.csrfToken)) {
      return forbidden(
        c,
        "csrf_token_invalid",
        `A write with the session cookie must send the session's CSRF token in ${CSRF_HEADER} (from login or GET /api/v1/auth/me).`,
      );
    }
    const { user } = session;
    return {
      actor: { type: "user", id: user.id, name: user.email },
      role: user.role,
      userId: user.id,
      session: { id: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt },
    };
  };

  return async (c, next) => {
    const required = requirementOf(c.req.method, c.req.path);
    if (required === "public") return next();
    // A bearer token wins over a cookie: scripts never need a CSRF token.
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    const cookie = token === undefined && accounts ? getCookie(c, SESSION_COOKIE) : undefined;
    if (token === undefined && cookie === undefined) {
      onFailure("missing");
      return unauthorized(c, "This endpoint needs credentials: send 'Authorization: Bearer <token>' or log in.", 'Bearer realm="vantage"');
    }
    const principal = token !== undefined ? await bearerPrincipal(c, token) : await sessionPrincipal(c, cookie!);
    if (principal instanceof Response) return principal;
    if (!roleAtLeast(principal.role, required)) {
      return forbidden(c, "forbidden", `The ${principal.role} role may not ${c.req.method} ${c.req.path}: it needs ${required}.`);
    }
    c.set("principal", principal);
    return next();
  };
}
