// Reloads keyed things from the database one batch at a time: requests arriving while a
// batch loads are coalesced into the next, so a burst of notices costs a few queries and a
// later load always starts after the notice that asked for it. A failed load is retried.
import type { Logger } from "../../log.ts";

export interface SerialReloaderOptions {
  /** Loads these keys (and applies what it read). */
  loadSome(keys: string[]): Promise<void>;
  /** Loads everything (a resync: notices may have been missed). */
  loadAll(): Promise<void>;
  logger: Logger;
  /** What is reloaded, for the log. */
  what: string;
  /** Keys per load at most (default 1,000). */
  maxBatch?: number;
  /** Delay before a failed load is tried again (default 1 s). */
  retryMs?: number;
}

export interface SerialReloader {
  request(key: string): void;
  requestAll(): void;
  /** Resolves once nothing is loading (a load waiting to be retried does not count). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export function createSerialReloader(options: SerialReloaderOptions): SerialReloader {
  const maxBatch = options.maxBatch ?? 1000;
  const keys = new Set<string>();
  let all = false;
  let running: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const next = async (): Promise<void> => {
    if (all) {
      // Whatever was requested before this load starts is read by it.
      all = false;
      keys.clear();
      try {
        await options.loadAll();
      } catch (error) {
        all = true;
        throw error;
      }
      return;
    }
    const batch = [...keys].slice(0, maxBatch);
    for (const key of batch) keys.delete(key);
    try {
      await options.loadSome(batch);
    } catch (error) {
      for (const key of batch) keys.add(key);
      throw error;
    }
  };

  const drain = async () => {
    while (!stopped && (all || keys.size > 0)) await next();
  };

  const kick = () => {
    if (stopped || running || retryTimer) return;
    running = drain()
      .catch((error: unknown) => {
        options.logger.error({ err: error }, `reloading ${options.what} failed; retrying`);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          kick();
        }, options.retryMs ?? 1000);
      })
      .finally(() => {
        running = undefined;
        // A request that came after the loop's last look but before this.
        if (all || keys.size > 0) kick();
      });
  };

  return {
    request(key) {
      keys.add(key);
      kick();
    },
    requestAll() {
      all = true;
      kick();
    },
    async settled() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      while (running) await running;
    },
  };
}
