// Counts events in fixed time windows: the failed logins of a source address, the bad
// frames of a socket. Small enough to keep one per socket and per address.

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
}

export interface FailureLimit {
  /** Failures allowed per window; the next attempt in that window is refused. */
  max: number;
  windowMs: number;
}

/**
 * Failures by key (a source address), each key limited to `max` per window. Keys whose
 * window passed are swept when the map grows, so many addresses cannot grow it forever.
 */
export class FailureLimiter {
  private readonly counters = new Map<string, FixedWindowCounter>();
  private sweepAt: number;

  constructor(
    private readonly limit: FailureLimit,
    private readonly now: () => number,
    private readonly sweepAbove = 10_000,
  ) {
    this.sweepAt = sweepAbove;
  }

  isLimited(key: string): boolean {
    return (this.counters.get(key)?.countAt(this.now()) ?? 0) >= this.limit.max;
  }

  fail(key: string): void {
    let counter = this.counters.get(key);
    if (!counter) {
      if (this.counters.size >= this.sweepAt) this.sweep();
      counter = new FixedWindowCounter(this.limit.windowMs);
      this.counters.set(key, counter);
    }
    counter.hit(this.now());
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) if (counter.countAt(now) === 0) this.counters.delete(key);
    // Still large after the sweep: everything is recent, so look again only after more growth.
    this.sweepAt = Math.max(this.sweepAbove, this.counters.size * 2);
  }
}
