// Remembers which results this process already handed to the sink, so a result re-sent
// after a reconnect is acknowledged again without being stored twice. Bounded (LRU): the
// durable guarantee is the results table's unique key; this only spares it the retries.

export type ResultOutcome = "accepted" | "duplicate";

export class ResultDeduplicator {
  /** Insertion-ordered: the first key is the least recently seen. */
  private readonly done = new Map<string, true>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly capacity: number) {}

  /**
   * Runs `store` for a key seen for the first time; a key already stored (or being
   * stored right now) resolves "duplicate" once that store finished. A failed store is
   * forgotten, so the next attempt runs it again.
   */
  async run(key: string, store: () => Promise<void>): Promise<ResultOutcome> {
    if (this.done.has(key)) {
      this.done.delete(key);
      this.done.set(key, true);
      return "duplicate";
    }
    const running = this.inFlight.get(key);
    if (running) {
      await running;
      return "duplicate";
    }
    const stored = store();
    this.inFlight.set(key, stored);
    try {
      await stored;
    } finally {
      this.inFlight.delete(key);
    }
    this.done.set(key, true);
    if (this.done.size > this.capacity) this.done.delete(this.done.keys().next().value!);
    return "accepted";
  }
}
