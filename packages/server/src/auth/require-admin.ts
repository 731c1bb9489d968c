// The HTTP guard of the admin API: a bearer token checked by the admin token verifier.
// Missing or wrong credentials get 401 with a WWW-Authenticate challenge (RFC 6750).
import type { Actor } from "@vantage/protocol";
import type { Context, MiddlewareHandler } from "hono";
import type { AdminTokenVerifier } from "./admin-token.ts";

/** Who API requests authenticated with the admin token act as, in entity changes. */
export const ADMIN_ACTOR: Actor = Object.freeze({ type: "token", id: "admin", name: "admin token" });

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function unauthorized(c: Context, message: string, challenge: string): Response {
  c.header("WWW-Authenticate", challenge);
  return c.json({ error: { code: "unauthorized", message } }, 401);
}

export function requireAdmin(verify: AdminTokenVerifier): MiddlewareHandler {
  return async (c, next) => {
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (token === undefined) {
      return unauthorized(c, "This endpoint needs the admin token: send 'Authorization: Bearer <token>'.", 'Bearer realm="vantage"');
    }
    if (!(await verify(token))) {
      return unauthorized(c, "The bearer token is not a valid admin token.", 'Bearer realm="vantage", error="invalid_token"');
    }
    await next();
  };
}
