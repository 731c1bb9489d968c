// The deadline of one probe run: the caller's signal (a cancelled run) and the spec's timeout
// as one signal, and, once it fired, which of the two it was — a timeout is the target's
// failure (down), a cancellation is not (error).
import { withTimeout } from "@vantage/outbound";
import type { Finding } from "./probe-result.ts";

export interface ProbeDeadline {
  signal: AbortSignal;
  /** Why the run stopped, once the signal fired; undefined while it has not. */
  stopped(): { finding: Finding; error: { code: string; message: string } } | undefined;
  release(): void;
}

export function probeDeadline(caller: AbortSignal, timeoutMs: number): ProbeDeadline {
  const deadline = withTimeout(caller, timeoutMs);
  return {
    signal: deadline.signal,
    release: deadline.release,
    stopped() {
      if (!deadline.signal.aborted) return undefined;
      if (caller.aborted) {
        const message = "the run was cancelled before it finished";
        return { finding: { status: "error", reason: message }, error: { code: "cancelled", message } };
      }
      const message = `no answer within ${timeoutMs} ms`;
      return { finding: { status: "down", reason: message }, error: { code: "timeout", message } };
    },
  };
}
