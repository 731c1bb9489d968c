// How a route documents itself: `routes.get("/:id", describeRoute({ … }), handler)`. The
// description rides on a pass-through middleware registered with the route, so the OpenAPI
// document takes each route's method and path from Hono itself and its schemas from the very
// zod objects the handler validates with — nothing to keep in step by hand.
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";

/** One documented answer: what it means and, for a body, the schema it has (none: no body, e.g. 204). */
export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** The media type of `schema` (default application/json). */
  contentType?: string;
}

/**
 * A request the reference shows and the API tests send: it must succeed. A path parameter it
 * leaves out is filled by the tests from a resource they created (see docs/architecture.md).
 */
export interface RouteExample {
  summary: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** The reference's section (default: the first path segment after /api/v1). */
  tag?: string;
  /** Path parameters by name (default: a string each). */
  params?: z.ZodType;
  /** The query string: the same (strict) object the handler reads it with. */
  query?: z.ZodType;
  /** The request body: the schema the handler reads it with. */
  body?: z.ZodType;
  /** The body may be YAML too (`Content-Type: application/yaml`). */
  yaml?: boolean;
  /** The body may be left out. */
  bodyOptional?: boolean;
  /** The successful answers by status; error answers are added from `errors`. */
  responses: Record<number, ResponseDoc>;
  /** Error statuses beyond the usual ones (400 for a body or query, 404 for a path id, 401). */
  errors?: Record<number, string>;
  /** Answered without credentials. */
  public?: boolean;
  /** Named example requests. */
  examples?: Record<string, RouteExample>;
}

const ROUTE_DOC = Symbol("vantage.routeDoc");

type DocumentedHandler = MiddlewareHandler & { [ROUTE_DOC]?: RouteDoc };

/** The pass-through middleware carrying `doc`; put it first among the route's handlers. */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  const handler: DocumentedHandler = async (_c, next) => {
    await next();
  };
  handler[ROUTE_DOC] = doc;
  return handler;
}

/** The description a handler carries, if it is one describeRoute made. */
export function routeDocOf(handler: unknown): RouteDoc | undefined {
  return typeof handler === "function" ? (handler as DocumentedHandler)[ROUTE_DOC] : undefined;
}
