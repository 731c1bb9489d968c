// Reconnect delays: exponential backoff with FULL jitter (AWS's "full jitter"), so a fleet
// cut off at the same moment does not come back at the same moment.

import type { Random } from "./clock.ts";

export interface BackoffOptions {
  /** The ceiling of the first delay. */
  baseMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
  random: Random;
}

export interface Backoff {
  /** The next delay: uniform in [0, min(maxMs, baseMs · 2^attempt)]; counts an attempt. */
  next(): number;
  /** After a healthy session: the next delay is drawn from [0, baseMs] again. */
  reset(): void;
  /** Delays drawn since the last reset. */
  readonly attempt: number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 30_000 } as const;

export function createBackoff(options: BackoffOptions): Backoff {
  let attempt = 0;
  return {
    next() {
      // 2^attempt stops growing once past the ceiling, so a long outage cannot overflow it.
      const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
      attempt += 1;
      return Math.round(options.random() * ceiling);
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}
