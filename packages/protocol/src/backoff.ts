// Exponential backoff: the one rule every retry loop of the core and the agent follows. The
// n-th delay's ceiling is base · 2^(n−1), capped; jitter spreads out a crowd that failed together.

export interface BackoffPolicy {
  /** The first delay (its ceiling, with jitter). */
  baseMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
  /**
   * How the delay is drawn below its ceiling: `none` — the ceiling itself; `equal` — anywhere
   * in its upper half (never much shorter than planned); `full` — anywhere from 0 (AWS's "full
   * jitter": a fleet cut off at one moment does not come back at one moment).
   */
  jitter: "none" | "equal" | "full";
}

/** A number in [0, 1), like Math.random. */
export type Random = () => number;

// Past this the ceiling is far above any maxMs; stopping the exponent keeps a long outage's
// arithmetic finite (2^1024 is Infinity, and 0 · Infinity is NaN).
const MAX_EXPONENT = 52;

/** The delay in whole milliseconds before retry number `attempt` (1 for the first). */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: Random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, MAX_EXPONENT));
  switch (policy.jitter) {
    case "none":
      return Math.round(ceiling);
    case "equal":
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    case "full":
      return Math.round(random() * ceiling);
  }
}

/** A backoff that counts its own attempts, for a loop that starts over after a success. */
export interface Backoff {
  /** The next delay (see backoffDelayMs); counts an attempt. */
  next(): number;
  /** After a success: the next delay is the first one again. */
  reset(): void;
  /** Delays drawn since the last reset. */
  readonly attempt: number;
}

export function createBackoff(policy: BackoffPolicy, random: Random = Math.random): Backoff {
  let attempt = 0;
  return {
    next: () => backoffDelayMs(policy, ++attempt, random),
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}
