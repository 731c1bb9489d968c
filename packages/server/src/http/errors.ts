// Maps the core's error kinds to HTTP answers: `{ error: { code, message, details? } }`.
// Bad input never answers 5xx: a value PostgreSQL refused is the request's fault, too.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorBody, type ErrorKind, invalidInput, isVantageError, type VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isRefusedValue } from "../storage/index.ts";

const STATUS_BY_KIND: Record<ErrorKind, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  transient: 503,
  timeout: 504,
  fatal: 500,
};

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  const known = isVantageError(error) ? error : refusedValue(c, error, logger);
  if (known) {
    const status = STATUS_BY_KIND[known.kind];
    if (status >= 500) logger.error({ err: known, path: c.req.path }, "request failed");
    return c.json(errorBody(known.code, known.message, known.details), status);
  }
  logger.error({ err: error, path: c.req.path }, "unexpected error in request");
  return c.json(errorBody("internal", "Internal server error; the core's log has the details."), 500);
}

/** A value PostgreSQL refused as an invalid_input error; the warning says the edge should have caught it. */
function refusedValue(c: Context, error: unknown, logger: Logger): VantageError | undefined {
  if (!isRefusedValue(error)) return undefined;
  logger.warn({ err: error, path: c.req.path }, "the database refused a value of a request that the API's checks let through");
  return invalidInput([{ path: "", message: `the database refused a value of this request: ${(error as Error).message}` }], { cause: error });
}
