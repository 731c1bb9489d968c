// The live change stream of one core process: ONE follower reads the outbox in (xid, seq) order
// (woken by the NOTIFY of any core, polling as a fallback) and fans each change out to every
// attached client, whose catch-up from its Last-Event-ID joins the live flow without a gap or
// a double. Per change: one read per process, one serialization; per client, one write per
// tick carrying every change since the last (bytes shared by the clients of one filter).
import { createBackoff } from "@vantage/protocol";
import type pg from "pg";
import { createWakeableSleep, type NotificationHub } from "../cluster/index.ts";
import { ENTITY_CHANGES_CHANNEL, OUTBOX_HELD_BACK } from "../entities/index.ts";
import { VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isAfter, OUTBOX_START, type OutboxPosition, outboxHead, readOutboxPage, type PositionedChange } from "./outbox-pages.ts";
import { changeFrame, HEARTBEAT_FRAME, type SseStream } from "./sse-stream.ts";

/** A change ready to send: its kind (for filters), position (for the seam) and frame (built once). */
export interface StreamItem {
  kind: string;
  position: OutboxPosition;
  frame: Uint8Array;
}

export interface ChangeStreamOptions {
  pool: pg.Pool;
  hub: NotificationHub;
  logger: Logger;
  /** Comment heartbeats to every client this often (default 15 s). */
  heartbeatIntervalMs?: number;
  /** Fallback poll when no NOTIFY arrives (default 1 s). */
  pollIntervalMs?: number;
  /** Changes per outbox read, live and catching up (default 500). */
  pageSize?: number;
  /** Live changes held for one client while it catches up (default 10,000). */
  maxPendingWhileCatchingUp?: number;
  /**
   * The follower reads (and live changes go out) at most this often (default 20 ms): a change
   * committed within this time of the last batch waits for the next read, so a client costs
   * one write per tick, not one per change, and the outbox one read per tick, not per NOTIFY.
   */
  flushIntervalMs?: number;
  /** Observes the stream (metrics, tests). */
  observer?: ChangeStreamObserver;
}

export interface ChangeStreamObserver {
  /** A client was cut off because it did not read. */
  onCut?(reason: string): void;
  /** The follower read changes from the outbox (they go to the clients now). */
  onRead?(items: readonly StreamItem[]): void;
  /** The stream published a batch (live changes now in the clients' queues). */
  onPublish?(items: readonly StreamItem[]): void;
}

/**
 * What a client wants: changes after `after` (null: only what follows, i.e. after the outbox
 * head as the attach finds it), of `kinds` (null: all).
 */
export interface Subscription {
  stream: SseStream;
  kinds: ReadonlySet<string> | null;
  after: OutboxPosition | null;
  /**
   * Called once the client has caught up, with the position everything before has been sent
   * from, right before its first live change: the place for a frame that names that position.
   */
  onLive?(position: OutboxPosition): void;
}

export interface Attachment {
  /** Removes the client (call when its stream closes). */
  detach(): void;
  /** Settles once the client is live, or its catch-up ended (closed, cut). */
  live: Promise<void>;
}

export interface ChangeStream {
  start(): Promise<void>;
  /** Stops following, ends every client's stream (their queues flushed for a moment, then cut). */
  stop(): Promise<void>;
  /** Attaches a client: catches it up from `after` in the background, then live. */
  attach(subscription: Subscription): Attachment;
  /** Clients attached now. */
  size(): number;
  /** Whether the stream follows the outbox (not yet started, or stopping: false). */
  isRunning(): boolean;
}

interface Client {
  subscription: Subscription;
  /** Its filter as text: clients with the same one share a batch's bytes. */
  filterKey: string;
  /** The last position sent (catching up) or known to be covered. */
  cursor: OutboxPosition;
  live: boolean;
  /** Live changes may still include ones at or before `cursor` (right after the catch-up). */
  checkPosition: boolean;
  /** Live batches that arrived while catching up. */
  pending: StreamItem[];
  overflowed: boolean;
}

const wanted = (client: Client, item: StreamItem) => client.subscription.kinds === null || client.subscription.kinds.has(item.kind);

const filterKeyOf = (kinds: ReadonlySet<string> | null) => (kinds === null ? "*" : [...kinds].sort().join(","));

/** Several frames as one chunk, and how many it holds (the slow-client bound counts frames). */
interface Batch {
  chunk: Uint8Array;
  frames: number;
}

function batchOf(frames: Uint8Array[]): Batch | null {
  if (frames.length === 0) return null;
  return { chunk: frames.length === 1 ? frames[0]! : Buffer.concat(frames), frames: frames.length };
}

export function toStreamItem({ change, position }: PositionedChange): StreamItem {
  return { kind: change.kind, position, frame: changeFrame(change) };
}

export function createChangeStream(options: ChangeStreamOptions): ChangeStream {
  const { pool, hub, logger } = options;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const pageSize = options.pageSize ?? 500;
  const maxPending = options.maxPendingWhileCatchingUp ?? 10_000;
  const flushIntervalMs = options.flushIntervalMs ?? 20;
  const log = logger.child({ component: "change-stream" });

  const clients = new Set<Client>();
  /** Woken by NOTIFY (and stop): changes were committed. */
  const wakeup = createWakeableSleep();
  /** The wait for the next tick: woken only by stop (a NOTIFY must not cut it short). */
  const tick = createWakeableSleep();
  /** The wait of a follower with no client: woken by an attach (and stop), not by NOTIFY. */
  const attached = createWakeableSleep();
  /** Attaches so far: a read of the head that overlapped one is not kept (see `idle`). */
  let attaches = 0;
  /** Where the follower has read (and published) up to. */
  let head: OutboxPosition | undefined;
  let lastPublishAt = -Infinity;
  let running = false;
  let loop: Promise<void> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let unsubscribeReconnect: (() => void) | undefined;
  let stopping: Promise<void> | undefined;

  const sendLive = (client: Client, items: readonly StreamItem[]) => {
    for (const item of items) {
      if (client.checkPosition) {
        if (!isAfter(item.position, client.cursor)) continue;
        client.checkPosition = false;
      }
      if (wanted(client, item) && !client.subscription.stream.send(item.frame)) return;
    }
  };

  const publish = (items: readonly StreamItem[]) => {
    // A live client gets a whole flush as one write: per client, one write per tick rather
    // than one per change (each write costs a chunk header, a cork and a syscall that wakes the
    // reader), so a core that falls behind spends less per change, not more. The chunk is built
    // once per filter and shared.
    const batches = new Map<string, Batch | null>();
    const sharedBatch = (client: Client) => {
      let batch = batches.get(client.filterKey);
      if (batch === undefined) {
        batch = batchOf(items.filter((item) => wanted(client, item)).map((item) => item.frame));
        batches.set(client.filterKey, batch);
      }
      return batch;
    };
    for (const client of clients) {
      if (client.live && !client.checkPosition) {
        const batch = sharedBatch(client);
        if (batch) client.subscription.stream.send(batch.chunk, batch.frames);
      } else if (client.live) {
        sendLive(client, items);
      } else if (client.pending.length + items.length > maxPending) {
        // Too much arrived during its catch-up. If the client is what holds the catch-up back
        // (its queue is full), it is cut off; else drop the batches and read them again.
        if (!client.subscription.stream.hasRoom(pageSize)) {
          client.subscription.stream.cut("slow client: fell behind while catching up");
          continue;
        }
        client.pending = [];
        client.overflowed = true;
      } else {
        client.pending.push(...items);
      }
    }
    options.observer?.onPublish?.(items);
  };

  /** Reads the page after `head` and publishes it at once; how many changes it held. */
  const readNext = async (): Promise<number> => {
    head ??= await outboxHead(pool);
    const page = await readOutboxPage(pool, head, pageSize);
    if (page.length === 0) return 0;
    head = page.at(-1)!.position;
    const items = page.map(toStreamItem);
    options.observer?.onRead?.(items);
    lastPublishAt = performance.now();
    publish(items);
    return page.length;
  };

  /**
   * With no client attached nothing is read but the outbox head, once a poll: reading every
   * change (rows, JSON, frames, and the held-back check) for nobody was a few percent of a
   * core's CPU in a reconnect storm or a mass outage (bench/satellite-connects). The head keeps
   * the follower near the outbox, so a client that attaches starts it there, not at a backlog.
   * A head read while a client attached is dropped: it may be past that client's start (its
   * own read of the head, or its catch-up's last page), and the follower must publish
   * everything after that start. One read before the attach is at or below it: the settled
   * head only moves forward.
   */
  const idle = async () => {
    const attachesBefore = attaches;
    const position = await outboxHead(pool);
    if (attaches === attachesBefore) head = position;
    await attached.sleep(pollIntervalMs);
  };

  const follow = async () => {
    const retry = createBackoff({ baseMs: 100, maxMs: 5000, jitter: "none" });
    const heldBack = createBackoff({ baseMs: 10, maxMs: pollIntervalMs, jitter: "none" });
    while (running) {
      try {
        if (clients.size === 0) {
          await idle();
          continue;
        }
        // At most one read with changes per tick: what commits meanwhile waits for the next
        // read and goes out as it returns. The read waits, not the batch it returned, so a tick
        // costs one query however many NOTIFYs came (at 200 changes/s: 50 reads, not 200), and
        // the changes committed while the follower waited for the tick are in that read.
        const wait = lastPublishAt + flushIntervalMs - performance.now();
        if (wait > 0) await tick.sleep(wait);
        if (!running) break;
        const read = await readNext();
        if (read > 0) heldBack.reset();
        retry.reset();
        if (read === pageSize) continue;
        // A NOTIFY came during the read: read again (at the tick) rather than ask first
        // whether committed changes wait behind an older transaction (a second query per read).
        let held = false;
        if (!wakeup.hasPendingWake()) {
          const { rows } = await pool.query<{ held: boolean }>({ name: "vantage_stream_held_back", text: OUTBOX_HELD_BACK, values: [head!.xid, head!.seq] });
          held = rows[0]!.held;
        }
        // An older transaction is still open: look again soon (its commit NOTIFYs too, unless it wrote no change).
        await wakeup.sleep(held ? heldBack.next() : pollIntervalMs);
      } catch (error) {
        log.warn({ err: error }, "could not read the outbox; retrying");
        await wakeup.sleep(retry.next());
      }
    }
  };

  /** Reads the outbox from the client's cursor until it has caught up, then turns it live. */
  const catchUp = async (client: Client): Promise<void> => {
    const { stream, kinds } = client.subscription;
    const kindList = kinds === null ? null : [...kinds];
    for (;;) {
      client.overflowed = false;
      for (;;) {
        await stream.room(pageSize);
        if (stream.closed) return;
        const page = await readOutboxPage(pool, client.cursor, pageSize, kindList);
        const batch = batchOf(page.map((positioned) => toStreamItem(positioned).frame));
        if (batch) {
          if (!stream.send(batch.chunk, batch.frames)) return;
          client.cursor = page.at(-1)!.position;
        }
        if (page.length < pageSize) break;
      }
      // A batch dropped by an overflow before this round's last read began is covered by that
      // read (the follower's horizon was at or below the read's); one dropped while the read ran
      // may hold rows past it, so any overflow in the round means another round.
      if (!client.overflowed) break;
    }
    goLive(client);
  };

  /**
   * Turns a client live at its cursor: `ready`, then the batches held for it past the cursor.
   * Called with no await between the client's last read and this: the follower cannot publish
   * in between.
   */
  const goLive = (client: Client) => {
    client.subscription.onLive?.(client.cursor);
    client.live = true;
    client.checkPosition = true;
    const pending = client.pending;
    client.pending = [];
    sendLive(client, pending);
  };

  /**
   * A client that wants only what follows starts at the outbox head as its attach finds it, not
   * where the follower is: the follower lags the outbox by up to a tick and a read (seconds on
   * a loaded core), so a start taken from it would hand the client changes committed before it
   * asked (and name in `ready` a position before them: a reconnect from there gets them again,
   * ahead of what it missed). Nothing needs reading: the client was added before the head was
   * read, so every batch published since is held for it, and every one published before ends at
   * or below the head (a published change was settled when read; the head is the newest settled one).
   */
  const startAtHead = async (client: Client): Promise<void> => {
    const start = await outboxHead(pool);
    if (client.subscription.stream.closed) return;
    client.cursor = start;
    // Batches held for it overflowed while the head was read: read them from the outbox.
    if (client.overflowed) return catchUp(client);
    goLive(client);
  };

  return {
    async start() {
      running = true;
      unsubscribe = await hub.subscribe(ENTITY_CHANGES_CHANNEL, () => wakeup.wake());
      // NOTIFYs missed during a reconnect: read the outbox right away.
      unsubscribeReconnect = hub.onReconnect(() => wakeup.wake());
      head = await outboxHead(pool);
      loop = follow();
      heartbeat = setInterval(() => {
        for (const client of clients) client.subscription.stream.send(HEARTBEAT_FRAME);
      }, heartbeatIntervalMs);
    },

    stop: () =>
      (stopping ??= (async () => {
        running = false;
        clearInterval(heartbeat);
        wakeup.wake();
        tick.wake();
        attached.wake();
        await loop;
        // What committed before the stop goes to the live clients before their streams end
        // (the tick may have held it back); they resume from there on another core.
        if (head !== undefined)
          await readNext().catch((error: unknown) => log.warn({ err: error }, "could not read the outbox's last changes before stopping"));
        wakeup.clear();
        tick.clear();
        attached.clear();
        unsubscribeReconnect?.();
        await unsubscribe?.();
        for (const client of clients) client.subscription.stream.end();
        // A client that does not read its last frames does not hold the shutdown.
        await new Promise((resolve) => setTimeout(resolve, clients.size > 0 ? 200 : 0));
        for (const client of clients) client.subscription.stream.cut("server shutting down");
      })()),

    attach(subscription) {
      if (!running || head === undefined) throw shuttingDown();
      const { after } = subscription;
      const client: Client = {
        subscription,
        filterKey: filterKeyOf(subscription.kinds),
        // Set by startAtHead before the client turns live.
        cursor: after ?? OUTBOX_START,
        live: false,
        checkPosition: false,
        pending: [],
        overflowed: false,
      };
      // Added before its start is read: every batch flushed from now on is held for it.
      clients.add(client);
      attaches += 1;
      attached.wake();
      const detach = () => void clients.delete(client);
      const live = (after === null ? startAtHead(client) : catchUp(client)).catch((error: unknown) => {
        log.warn({ err: error }, "could not start a client's stream; cutting it off");
        subscription.stream.cut("catch-up failed");
      });
      return { detach, live };
    },

    size: () => clients.size,
    isRunning: () => running,
  };
}

export function shuttingDown(): VantageError {
  return new VantageError("transient", "shutting_down", "This core is shutting down; reconnect, and the stream resumes on another core.");
}
