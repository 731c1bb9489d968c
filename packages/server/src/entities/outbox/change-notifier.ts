// Announces committed changes to every core process with NOTIFY, sent right after the
// commit and coalesced: at most one NOTIFY in flight per process, carrying the seqs of
// every change committed meanwhile.
//
// Why not pg_notify inside the mutation's transaction: PostgreSQL serializes the commits
// of all notifying transactions on one cluster-wide lock, which caps concurrent mutation
// throughput (measured by bench/entity-mutations; see docs/architecture.md). Nothing
// durable depends on the NOTIFY: the router also polls, and the live feed is lossy.
import type pg from "pg";
import { notifyStatement } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";

export const ENTITY_CHANGES_CHANNEL = "vantage_entity_changes";

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; stay below it. */
const MAX_PAYLOAD_BYTES = 7900;

export interface ChangeNotifier {
  /** Records that the change with this seq committed; a NOTIFY follows shortly. */
  committed(seq: number): void;
  /**
   * Records that a transaction committed changes it did not name (the run executor's run-status
   * changes): a NOTIFY follows shortly, which wakes the router and the change stream; it names
   * no seq unless it carries some of committed()'s.
   */
  announce(): void;
  /** Resolves once every recorded seq has been announced (or failed to be). */
  flush(): Promise<void>;
}

/** Splits seqs into comma-separated payloads that each fit one NOTIFY. */
export function seqPayloads(seqs: readonly number[]): string[] {
  const payloads: string[] = [];
  let current = "";
  for (const seq of seqs) {
    const text = String(seq);
    if (current.length + text.length + 1 > MAX_PAYLOAD_BYTES) {
      payloads.push(current);
      current = "";
    }
    current = current === "" ? text : `${current},${text}`;
  }
  if (current !== "") payloads.push(current);
  return payloads;
}

export function parseSeqPayload(payload: string): number[] {
  return payload
    .split(",")
    .map(Number)
    .filter((seq) => Number.isSafeInteger(seq) && seq > 0);
}

/** Sends one NOTIFY payload on the changes channel. */
export type SendNotify = (payload: string) => Promise<unknown>;

/**
 * Through the pool: tools and tests without a hub, and a core's run executor (automations/start.ts
 * says why not on the hub's connection). Named, as the hub's is.
 */
export const notifyThroughPool =
  (pool: pg.Pool): SendNotify =>
  (payload) =>
    pool.query(notifyStatement(ENTITY_CHANGES_CHANNEL, payload));

export function createChangeNotifier(sendNotify: SendNotify, logger: Logger): ChangeNotifier {
  let pending: number[] = [];
  let unnamed = false;
  let sending: Promise<void> | undefined;

  const send = async () => {
    while (pending.length > 0 || unnamed) {
      const seqs = pending;
      pending = [];
      // Any NOTIFY on the channel wakes the router and the stream: one naming seqs will do.
      const payloads = seqs.length > 0 ? seqPayloads(seqs) : [""];
      unnamed = false;
      for (const payload of payloads) {
        await sendNotify(payload).catch((error: unknown) => {
          // Lossy by design: the router polls, the live feed tolerates gaps.
          logger.warn({ err: error }, "could not announce committed changes");
        });
      }
    }
  };

  const schedule = () => {
    sending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(send).finally(() => {
      sending = undefined;
    });
  };

  return {
    committed(seq) {
      pending.push(seq);
      schedule();
    },
    announce() {
      unnamed = true;
      schedule();
    },
    flush: async () => {
      while (sending) await sending;
    },
  };
}
