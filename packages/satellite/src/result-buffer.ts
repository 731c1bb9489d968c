// Check results waiting for the core's ack, oldest first, bounded: when full the oldest is
// dropped and counted, so an agent cut off for hours keeps its newest results and its memory.
// It remembers which went out already, so the next session marks them as resends.
import type { ResultFrame } from "@vantage/protocol";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";

export interface ResultBufferOptions {
  capacity: number;
  logger: Logger;
  clock: Clock;
  /** While results keep being dropped, at most one warning per this period (default 60 s). */
  dropWarningEveryMs?: number;
}

export interface ResultBuffer {
  /** Keeps a result until it is acknowledged; drops the oldest one when full. */
  add(result: ResultFrame): void;
  /** Forgets acknowledged results; returns how many it held. Unknown ids are ignored. */
  ack(resultIds: readonly string[]): number;
  /** Notes that a result went out: a later session sends it again marked as a resend. */
  sent(resultId: string): void;
  /**
   * Unacknowledged results, oldest first: what a new session sends before anything else. Those
   * sent before carry `resend: true` (the core may have stored them: it then skips them at once).
   */
  pending(): ResultFrame[];
  /** Called with each result as it is added (the connection sends it if it can). */
  subscribe(listener: (result: ResultFrame) => void): () => void;
  readonly size: number;
  /** Results dropped unacknowledged since the agent started. */
  readonly dropped: number;
}

export function createResultBuffer(options: ResultBufferOptions): ResultBuffer {
  const warnEveryMs = options.dropWarningEveryMs ?? 60_000;
  // A Map iterates in insertion order: its first key is the oldest result.
  const results = new Map<string, ResultFrame>();
  /** Ids of held results that went out on some session. */
  const sent = new Set<string>();
  const listeners = new Set<(result: ResultFrame) => void>();
  let dropped = 0;
  let unreported = 0;
  let lastWarningAt: number | undefined;

  const dropOldest = () => {
    const oldest = results.keys().next();
    if (oldest.done) return;
    results.delete(oldest.value);
    sent.delete(oldest.value);
    dropped += 1;
    unreported += 1;
    const now = options.clock.now();
    if (lastWarningAt !== undefined && now - lastWarningAt < warnEveryMs) return;
    options.logger.warn(
      { dropped, droppedSinceLastWarning: unreported, capacity: options.capacity },
      "result buffer is full: dropped the oldest unacknowledged results",
    );
    lastWarningAt = now;
    unreported = 0;
  };

  return {
    add(result) {
      while (results.size >= options.capacity) dropOldest();
      results.set(result.resultId, result);
      for (const listener of listeners) listener(result);
    },
    ack(resultIds) {
      let removed = 0;
      for (const id of resultIds) {
        if (!results.delete(id)) continue;
        sent.delete(id);
        removed += 1;
      }
      return removed;
    },
    sent(resultId) {
      if (results.has(resultId)) sent.add(resultId);
    },
    pending: () => Array.from(results.values(), (result) => (sent.has(result.resultId) ? { ...result, resend: true } : result)),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    get size() {
      return results.size;
    },
    get dropped() {
      return dropped;
    },
  };
}
