// The one error type of the core. Errors are classified by what the caller must do
// about them, carry a stable code for logs and API clients, and keep their cause.

export type ErrorKind =
  /** The input is wrong; retrying the same input fails the same way. */
  | "invalid_input"
  | "not_found"
  | "conflict"
  /** Retry later: the database or a peer is briefly unavailable. */
  | "transient"
  /** The process cannot go on (bad configuration, unknown schema version). */
  | "fatal";

export class VantageError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
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
