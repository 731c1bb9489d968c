// Counts events in fixed time windows: the failed logins of a source address or credential,
// the bad frames of a socket. Small enough to keep one per socket and per address.

export class FixedWindowCounter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(private readonly windowMs: number) {}

  /** Counts one event at `now`; returns how many the current window holds. */
  hit(now: number): number {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count;
  }

  /** Events in the window that contains `now`. */
  countAt(now: number): number {
    return now - this.windowStart >= this.windowMs ? 0 : this.count;
  }

  /** Milliseconds from `now` until the current window ends (0 when no window is open). */
  remainingMs(now: number): number {
    return Math.max(0, this.windowStart + this.windowMs - now);
  }
}

export interface FailureLimit {
  /** Failures allowed per window; the next attempt in that window is refused. */
  max: number;
  windowMs: number;
}

/** One credential check in progress, counted against its keys from its start. */
export interface Attempt {
  /** The credentials verified: the attempt is forgotten, it never counts as a failure. */
  succeeded(): void;
  /** The credentials were wrong: the attempt becomes a failure of each key. */
  failed(): void;
}

interface KeyState {
  failures: FixedWindowCounter;
  /** Attempts started and not yet settled. */
  inFlight: number;
}

/**
 * Failures by key (a source address, a credential id), each key limited to `max` per window.
 * An attempt counts from the moment it starts (`begin`), so a burst of concurrent attempts
 * cannot all pass the check before the first of them fails. Keys whose window passed are
 * swept when the map grows, so many addresses cannot grow it forever.
 */
export class FailureLimiter {
  private readonly keys = new Map<string, KeyState>();
  private sweepAt: number;

  constructor(
    private readonly limit: FailureLimit,
    private readonly now: () => number,
    private readonly sweepAbove = 10_000,
  ) {
    this.sweepAt = sweepAbove;
  }

  isLimited(key: string): boolean {
    const state = this.keys.get(key);
    return state !== undefined && state.failures.countAt(this.now()) + state.inFlight >= this.limit.max;
  }

  /**
   * Starts an attempt on behalf of every key, or answers undefined when any of them is at
   * its limit (failures in the window plus attempts still being checked).
   */
  begin(keys: readonly string[]): Attempt | undefined {
    if (keys.some((key) => this.isLimited(key))) return undefined;
    const states = keys.map((key) => this.state(key));
    for (const state of states) state.inFlight += 1;
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return;
      settled = true;
      const now = this.now();
      for (const state of states) {
        state.inFlight -= 1;
        if (failed) state.failures.hit(now);
      }
    };
    return { succeeded: () => settle(false), failed: () => settle(true) };
  }

  /** Milliseconds until none of `keys` is limited by its failures any more (at least 1 s while limited). */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.now();
    let longest = 0;
    for (const key of keys) {
      if (!this.isLimited(key)) continue;
      // Limited by attempts still in flight alone: they settle within a verification.
      longest = Math.max(longest, 1000, this.keys.get(key)!.failures.remainingMs(now));
    }
    return longest;
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      if (this.keys.size >= this.sweepAt) this.sweep();
      state = { failures: new FixedWindowCounter(this.limit.windowMs), inFlight: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, state] of this.keys) if (state.inFlight === 0 && state.failures.countAt(now) === 0) this.keys.delete(key);
    // Still large after the sweep: everything is recent, so look again only after more growth.
    this.sweepAt = Math.max(this.sweepAbove, this.keys.size * 2);
  }
}
