// Route parameters that name a resource, read once at the edge by the one uuid rule: any case
// in, lower case out (the spelling stored, and the one secrets are sealed for).
import { canonicalUuid } from "@vantage/protocol";
import type { Context } from "hono";
import type { VantageError } from "../errors.ts";

/**
 * The id in path parameter `name`, in lower case. A malformed id names no resource, so it is
 * answered exactly as an unknown one: `notFound(raw)` (a 404 with the resource's own code).
 */
export function pathId(c: Context, name: string, notFound: (id: string) => VantageError): string {
  const raw = c.req.param(name) ?? "";
  const id = canonicalUuid(raw);
  if (id === undefined) throw notFound(raw);
  return id;
}
