// Who an API request acts as, once the guard authenticated it: the actor its writes record,
// the role that decides what it may do, and for a browser session the CSRF token writes echo.
import type { Actor, Role } from "@vantage/protocol";
import type { Context } from "hono";

export interface Principal {
  actor: Actor;
  role: Role;
  /** The user behind the request (a session's user, a token's owner), null for the bootstrap admin token. */
  userId: string | null;
  /** A browser session: its id (logout ends it), CSRF token and absolute expiry. */
  session?: { id: string; csrfToken: string; expiresAt: Date };
}

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}

/** Who API requests authenticated with the admin token (VANTAGE_ADMIN_TOKEN or the generated one) act as. */
export const ADMIN_ACTOR: Actor = Object.freeze({ type: "token", id: "admin", name: "admin token" });

export const ADMIN_PRINCIPAL: Principal = Object.freeze({ actor: ADMIN_ACTOR, role: "admin", userId: null });

/** The request's principal; set by the API guard for every /api/v1 route except login. */
export function principalOf(c: Context): Principal {
  const principal = c.get("principal");
  if (!principal) throw new Error(`no principal on ${c.req.method} ${c.req.path}: the route is not behind the API guard`);
  return principal;
}

/** The actor the current request's writes record. */
export const requestActor = (c: Context): Actor => principalOf(c).actor;
