// Every API request gets an id of its own: answered in `X-Request-Id`, and recorded as the cause
// of the entity changes the request makes, so history can say which call changed what.
import { randomUUID } from "node:crypto";
import { CAUSE_TYPES, type Cause } from "@vantage/protocol";
import type { Context, MiddlewareHandler } from "hono";

/** Always generated here, never taken from the client: a cause must not be forgeable onto another request's changes. */
export const assignRequestId: MiddlewareHandler = async (c, next) => {
  const id = randomUUID();
  c.set("requestId" as never, id as never);
  c.header("X-Request-Id", id);
  await next();
};

/** The cause of the changes the current request makes (null outside the API's middleware, e.g. a bare route in a test). */
export function requestCause(c: Context): Cause | null {
  const id = c.get("requestId" as never) as string | undefined;
  return id ? { type: CAUSE_TYPES.apiRequest, id } : null;
}
