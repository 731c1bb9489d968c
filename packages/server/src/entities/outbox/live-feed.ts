// Every committed entity change, published to every core process for UI fan-out and
// cache invalidation. Lossy by design (NOTIFY): anything that must not miss a change
// follows the outbox through the router instead.
import type { EntityChanged } from "@vantage/protocol";
import type pg from "pg";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "./change-row.ts";
import { ENTITY_CHANGES_CHANNEL, parseSeqPayload } from "./change-notifier.ts";

export type LiveChangeHandler = (change: EntityChanged) => void;

export interface LiveFeed {
  subscribe(handler: LiveChangeHandler): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const CHANGES_BY_SEQ = `SELECT ${CHANGE_COLUMNS} FROM entity_changes WHERE seq = ANY($1::bigint[]) ORDER BY seq`;

export function createLiveFeed(options: { pool: pg.Pool; hub: NotificationHub; logger: Logger }): LiveFeed {
  const { pool, hub, logger } = options;
  const handlers = new Set<LiveChangeHandler>();
  const reads = new Set<Promise<void>>();
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

  // The NOTIFY names the seqs; one read per notification fetches them all.
  const onNotification = (payload: string) => {
    if (handlers.size === 0) return;
    // A NOTIFY that names no seq (run-status changes) only wakes the outbox's followers.
    const seqs = parseSeqPayload(payload);
    if (seqs.length === 0) return;
    const read = pool
      .query<ChangeRow>({ name: "vantage_changes_by_seq", text: CHANGES_BY_SEQ, values: [seqs] })
      .then(({ rows }) => rows.forEach((row) => publish(changeFromRow(row))))
      .catch((error: unknown) => logger.warn({ err: error }, "live feed could not read announced changes"))
      .finally(() => reads.delete(read));
    reads.add(read);
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
      await Promise.all(reads);
    },
  };
}
