// The HTTP guard of the admin API: a bearer token checked by the admin token verifier.
// Missing or wrong credentials get 401 with a WWW-Authenticate challenge (RFC 6750); a source
// address with too many wrong tokens gets 429 without its token being hashed at all.
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Actor } from "@vantage/protocol";
import type { Context, MiddlewareHandler } from "hono";
import type { AdminTokenVerifier } from "./admin-token.ts";
import { type FailureLimit, FailureLimiter } from "./failure-window.ts";

/** Who API requests authenticated with the admin token act as, in entity changes. */
export const ADMIN_ACTOR: Actor = Object.freeze({ type: "token", id: "admin", name: "admin token" });

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function unauthorized(c: Context, message: string, challenge: string): Response {
  c.header("WWW-Authenticate", challenge);
  return c.json({ error: { code: "unauthorized", message } }, 401);
}

/** Wrong admin tokens allowed per source address and window: each costs a slow hash. */
export const DEFAULT_ADMIN_FAILURE_LIMIT: FailureLimit = { max: 10, windowMs: 60_000 };

/** The client's address; requests without a socket (app.request() in tests) share one key. */
function addressOf(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

export interface RequireAdminOptions {
  failureLimit?: FailureLimit;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

export function requireAdmin(verify: AdminTokenVerifier, options: RequireAdminOptions = {}): MiddlewareHandler {
  const limit = options.failureLimit ?? DEFAULT_ADMIN_FAILURE_LIMIT;
  const failures = new FailureLimiter(limit, options.now ?? Date.now);
  return async (c, next) => {
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (token === undefined) {
      return unauthorized(c, "This endpoint needs the admin token: send 'Authorization: Bearer <token>'.", 'Bearer realm="vantage"');
    }
    const address = addressOf(c);
    if (failures.isLimited(address)) {
      c.header("Retry-After", String(Math.ceil(limit.windowMs / 1000)));
      return c.json({ error: { code: "too_many_auth_failures", message: `Too many wrong admin tokens from ${address}; try again in ${Math.ceil(limit.windowMs / 1000)} s.` } }, 429);
    }
    if (!(await verify(token))) {
      failures.fail(address);
      return unauthorized(c, "The bearer token is not a valid admin token.", 'Bearer realm="vantage", error="invalid_token"');
    }
    await next();
  };
}
