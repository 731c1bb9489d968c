// The HTTP guard of the admin API: a bearer token checked by the admin token verifier.
// Missing or wrong credentials get 401 with a WWW-Authenticate challenge (RFC 6750); a client
// over its failure limit gets 429 for any token that only a slow hash could check.
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Actor } from "@vantage/protocol";
import type { Context, MiddlewareHandler } from "hono";
import { errorBody } from "../errors.ts";
import type { AdminTokenVerifier } from "./admin-token.ts";
import { type ClientAddressOf, createClientAddressOf } from "./client-address.ts";
import { type FailureLimit, FailureLimiter } from "./failure-window.ts";

/** Who API requests authenticated with the admin token act as, in entity changes. */
export const ADMIN_ACTOR: Actor = Object.freeze({ type: "token", id: "admin", name: "admin token" });

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function unauthorized(c: Context, message: string, challenge: string): Response {
  c.header("WWW-Authenticate", challenge);
  return c.json(errorBody("unauthorized", message), 401);
}

/** Wrong admin tokens allowed per client address and window: each may cost a slow hash. */
export const DEFAULT_ADMIN_FAILURE_LIMIT: FailureLimit = { max: 10, windowMs: 60_000 };

/** The TCP peer; requests without a socket (app.request() in tests) have none. */
function peerOf(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** The client a request comes from: its peer, or behind trusted proxies the forwarded address. */
export function requestClientAddress(c: Context, clientAddressOf: ClientAddressOf): string {
  return clientAddressOf(peerOf(c), { forwarded: c.req.header("forwarded"), "x-forwarded-for": c.req.header("x-forwarded-for") });
}

/** Why a request was refused: no bearer token, a wrong one, or one refused unchecked over the limit. */
export const ADMIN_AUTH_FAILURES = ["missing", "invalid", "rate_limited"] as const;
export type AdminAuthFailure = (typeof ADMIN_AUTH_FAILURES)[number];

export interface RequireAdminOptions {
  failureLimit?: FailureLimit;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /** The client behind trusted proxies (default: the TCP peer, no header believed). */
  clientAddressOf?: ClientAddressOf;
  /** Told of every refused request (metrics). */
  onFailure?: (reason: AdminAuthFailure) => void;
}

/**
 * Failures count per client address from the moment a check starts, so a burst of wrong
 * tokens is cut at the limit however concurrent. Over the limit, a token is still checked
 * when that is cheap — a generated token (SHA-256), or one this process already verified
 * (VANTAGE_ADMIN_TOKEN always is) — so a flood of wrong tokens never locks the admin out;
 * only a check that would cost a slow hash is refused with 429 and Retry-After.
 */
export function requireAdmin(verify: AdminTokenVerifier, options: RequireAdminOptions = {}): MiddlewareHandler {
  const limit = options.failureLimit ?? DEFAULT_ADMIN_FAILURE_LIMIT;
  const failures = new FailureLimiter(limit, options.now ?? Date.now);
  const clientAddressOf = options.clientAddressOf ?? createClientAddressOf();
  const onFailure = options.onFailure ?? (() => undefined);
  return async (c, next) => {
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (token === undefined) {
      onFailure("missing");
      return unauthorized(c, "This endpoint needs the admin token: send 'Authorization: Bearer <token>'.", 'Bearer realm="vantage"');
    }
    const address = requestClientAddress(c, clientAddressOf);
    const attempt = failures.begin([address]);
    const verdict = await verify(token, { slow: attempt !== undefined });
    if (verdict === "valid") {
      attempt?.succeeded();
      return next();
    }
    attempt?.failed();
    onFailure(attempt ? "invalid" : "rate_limited");
    if (attempt) return unauthorized(c, "The bearer token is not a valid admin token.", 'Bearer realm="vantage", error="invalid_token"');
    const seconds = Math.max(1, Math.ceil(failures.retryAfterMs([address]) / 1000));
    c.header("Retry-After", String(seconds));
    return c.json(errorBody("too_many_auth_failures", `Too many wrong admin tokens from ${address}; try again in ${seconds} s.`), 429);
  };
}
