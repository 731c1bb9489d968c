// Maps the core's error kinds to HTTP answers: `{ error: { code, message, details? } }`.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorKind, isVantageError } from "../errors.ts";
import type { Logger } from "../log.ts";

const STATUS_BY_KIND: Record<ErrorKind, ContentfulStatusCode> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  transient: 503,
  fatal: 500,
};

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  if (isVantageError(error)) {
    const status = STATUS_BY_KIND[error.kind];
    if (status >= 500) logger.error({ err: error, path: c.req.path }, "request failed");
    return c.json({ error: { code: error.code, message: error.message, details: error.details } }, status);
  }
  logger.error({ err: error, path: c.req.path }, "unexpected error in request");
  return c.json({ error: { code: "internal", message: "Internal server error; the core's log has the details." } }, 500);
}
