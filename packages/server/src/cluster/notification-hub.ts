// One LISTEN connection per core process, shared by every module that wants cross-process
// wake-ups. NOTIFY is lossy across reconnects, so subscribers are told when the connection
// was re-established and must resynchronise from durable state.
import type pg from "pg";
import type { Logger } from "../log.ts";
import { notifyStatement } from "./notices.ts";

export type NotificationHandler = (payload: string) => void;

export interface NotificationHub {
  /** Listens on `channel`; resolves once LISTEN is active. Returns the unsubscribe. */
  subscribe(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /**
   * Sends a NOTIFY on the hub's own connection: a wake-up sent through the pool would wait for a
   * free connection behind the very writes it announces (measured by bench/sse-fanout). Through
   * the pool while the hub reconnects.
   */
  notify(channel: string, payload: string): Promise<void>;
  /** Called after every reconnect: notifications may have been missed meanwhile. */
  onReconnect(handler: () => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createNotificationHub(options: { pool: pg.Pool; logger: Logger; reconnectDelayMs?: number }): NotificationHub {
  const { pool, logger } = options;
  const handlers = new Map<string, Set<NotificationHandler>>();
  const reconnectHandlers = new Set<() => void>();
  let client: pg.PoolClient | undefined;
  let connecting: Promise<void> | undefined;
  let stopped = true;
  let retryTimer: NodeJS.Timeout | undefined;

  const listeners = new Map<pg.PoolClient, (error: Error) => void>();
  const detach = (released: pg.PoolClient) => {
    released.removeListener("notification", dispatch);
    const onError = listeners.get(released);
    if (onError) released.removeListener("error", onError);
    listeners.delete(released);
  };

  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;

  const dispatch = (message: pg.Notification) => {
    for (const handler of handlers.get(message.channel) ?? []) {
      try {
        handler(message.payload ?? "");
      } catch (error) {
        logger.error({ err: error, channel: message.channel }, "notification handler threw");
      }
    }
  };

  const connect = async (isReconnect: boolean) => {
    const next = await pool.connect();
    const onError = (error: Error) => {
      logger.warn({ err: error }, "notification connection lost; reconnecting");
      detach(next);
      next.release(error);
      if (client === next) client = undefined;
      scheduleReconnect();
    };
    next.on("notification", dispatch);
    next.on("error", onError);
    // Once released the client belongs to the pool: an error it raises later (the server
    // shutting down) must not reach this handler and release it a second time.
    listeners.set(next, onError);
    for (const channel of handlers.keys()) await next.query(`LISTEN ${quote(channel)}`);
    if (stopped) {
      detach(next);
      next.release();
      return;
    }
    client = next;
    if (isReconnect) for (const handler of reconnectHandlers) handler();
  };

  const scheduleReconnect = () => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connecting = connect(true).catch((error: unknown) => {
        logger.warn({ err: error }, "notification reconnect failed; retrying");
        scheduleReconnect();
      });
    }, options.reconnectDelayMs ?? 1000);
  };

  return {
    async start() {
      stopped = false;
      connecting = connect(false);
      await connecting;
    },

    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      await connecting?.catch(() => undefined);
      const current = client;
      client = undefined;
      if (current) {
        await current.query("UNLISTEN *").catch(() => undefined);
        detach(current);
        current.release();
      }
    },

    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await connecting;
        await client?.query(`LISTEN ${quote(channel)}`);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          await client?.query(`UNLISTEN ${quote(channel)}`).catch(() => undefined);
        }
      };
    },

    async notify(channel, payload) {
      // Named: prepared once per connection, not parsed and planned again for every NOTIFY
      // (a busy core sends one per few mutations, coalesced: change-notifier.ts).
      await (client ?? pool).query(notifyStatement(channel, payload));
    },

    onReconnect(handler) {
      reconnectHandlers.add(handler);
      return () => reconnectHandlers.delete(handler);
    },
  };
}
