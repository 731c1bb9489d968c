// The one error type of the core. Errors are classified by what the caller must do
// about them, carry a stable code (from the protocol's one list) and keep their cause.
import { ERROR_CODES, type ErrorCode, type Issue, summarizeIssues } from "@vantage/protocol";
import { z } from "zod";

export type ErrorKind =
  /** The input is wrong; retrying the same input fails the same way. */
  | "invalid_input"
  /** No credentials, or wrong ones: sign in (again). */
  | "unauthorized"
  /** The caller's role may not do this: ask someone whose role may. */
  | "forbidden"
  | "not_found"
  | "conflict"
  /** Retry later: the database or a peer is briefly unavailable. */
  | "transient"
  /** A peer (a satellite) did not answer in time; retrying may work once it does. */
  | "timeout"
  /** The process cannot go on (bad configuration, unknown schema version). */
  | "fatal";

export class VantageError extends Error {
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VantageError";
    this.kind = kind;
    this.code = code;
    this.details = options.details;
  }
}

export function isVantageError(error: unknown, kind?: ErrorKind): error is VantageError {
  return error instanceof VantageError && (kind === undefined || error.kind === kind);
}

/** How an invalid-input error's message begins, by its code. */
const INVALID_WHAT: Partial<Record<ErrorCode, string>> = {
  invalid_input: "Invalid request",
  invalid_query: "Invalid query",
  invalid_automation: "Invalid automation",
  invalid_check: "Invalid check",
  invalid_maintenance_window: "Invalid maintenance window",
  invalid_bundle: "Invalid bundle",
};

/**
 * The one invalid-input error: 400 with `details.issues` listing each problem at its path,
 * and a message that says them all in one line.
 */
export function invalidInput(issues: Issue[], options: { code?: ErrorCode; cause?: unknown } = {}): VantageError {
  const code = options.code ?? "invalid_input";
  return new VantageError("invalid_input", code, `${INVALID_WHAT[code] ?? "Invalid input"}: ${summarizeIssues(issues)}.`, {
    cause: options.cause,
    details: { issues },
  });
}

/** The body of every error answer of the API: `{ error: { code, message, details? } }`. */
export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, details } };
}

/** The same shape as a schema, for the API's OpenAPI document (every error answer has it). */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).describe("Stable: clients branch on it."),
      message: z.string().describe("What went wrong and what to do, for people."),
      details: z.record(z.string(), z.unknown()).optional().describe("More, by code: `issues` (a list of `{ path, message }`) for invalid input."),
    }),
  })
  .meta({ title: "Error" });
