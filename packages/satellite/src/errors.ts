// The agent's one error type: what went wrong, a stable code, and the exit code the process
// ends with. Fatal errors end the process; everything else is retried with backoff.

/** 0: stopped on request; 1: an unexpected failure; 2: the operator must change something. */
export type ExitCode = 0 | 1 | 2;

export class SatelliteError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SatelliteError";
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}
