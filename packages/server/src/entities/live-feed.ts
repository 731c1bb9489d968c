// Every committed entity change, published to every core process for UI fan-out and
// cache invalidation. Lossy by design (NOTIFY): anything that must not miss a change
// follows the outbox through the router instead.
import type { EntityChanged } from "@vantage/protocol";
import type pg from "pg";
import type { NotificationHub } from "../cluster/notification-hub.ts";
import type { Logger } from "../log.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "./change-row.ts";

export const ENTITY_CHANGES_CHANNEL = "vantage_entity_changes";

export type LiveChangeHandler = (change: EntityChanged) => void;

export interface LiveFeed {
  subscribe(handler: LiveChangeHandler): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface TruncatedNotice {
  seq: number;
  truncated: true;
}

export function createLiveFeed(options: { pool: pg.Pool; hub: NotificationHub; logger: Logger }): LiveFeed {
  const { pool, hub, logger } = options;
  const handlers = new Set<LiveChangeHandler>();
  let unsubscribe: (() => Promise<void>) | undefined;

  const publish = (change: EntityChanged) => {
    for (const handler of handlers) {
      try {
        handler(change);
      } catch (error) {
        logger.error({ err: error }, "live feed subscriber threw");
      }
    }
  };

  const onNotification = (payload: string) => {
    const message = JSON.parse(payload) as EntityChanged | TruncatedNotice;
    if (!("truncated" in message)) return publish(message);
    // Too large for a NOTIFY payload: read the change itself.
    void pool
      .query<ChangeRow>(`SELECT ${CHANGE_COLUMNS} FROM entity_changes WHERE seq = $1`, [message.seq])
      .then(({ rows }) => rows[0] && publish(changeFromRow(rows[0])))
      .catch((error: unknown) => logger.warn({ err: error, seq: message.seq }, "live feed could not read a large change"));
  };

  return {
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async start() {
      unsubscribe = await hub.subscribe(ENTITY_CHANGES_CHANNEL, onNotification);
    },
    async stop() {
      await unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
