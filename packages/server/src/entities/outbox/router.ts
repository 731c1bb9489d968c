// Follows the entity_changes outbox from a durable cursor and hands each committed change,
// with its derived event ids and payload, to the registered sinks. One active router per
// cluster (session advisory lock); the others wait to take over.
import { createBackoff } from "@vantage/protocol";
import type pg from "pg";
import { createLeaderLoop, createWakeableSleep, type NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow, OUTBOX_HELD_BACK_EXPRESSION } from "./change-row.ts";
import { ENTITY_CHANGES_CHANNEL } from "./change-notifier.ts";
import type { EntityRegistry } from "../registry.ts";
import type { BatchOutcome, ChangeSink, PrepareOptions, RoutedChange, SinkDelivery, SqlClient } from "../types.ts";
import { setPipelined, settledInOrder } from "../pipelined-transaction.ts";
import { statementName, withPreparedStatements } from "../prepared-statements.ts";

/**
 * Reads in (xid, seq) order and never past the oldest transaction still in flight: every
 * transaction older than the snapshot's xmin has finished, so no row can later appear
 * before the cursor. See docs/architecture.md, "Routing without gaps".
 *
 * One statement for the batch and, only when it is empty, whether committed rows wait past the
 * cursor behind an older open transaction: then it answers one row of NULLs with `held` (the
 * held-back check, an InitPlan under CASE, runs only then). It was a statement of its own beside
 * every read (bench/automation-latency --statement-stats), asked mostly of non-empty batches.
 */
const READ_AHEAD = `
  SELECT ${CHANGE_COLUMNS}, batch.xid::text AS xid_text, CASE WHEN batch.seq IS NULL THEN ${OUTBOX_HELD_BACK_EXPRESSION} END AS held
  FROM (VALUES (1)) AS ask
  LEFT JOIN LATERAL (
    SELECT ${CHANGE_COLUMNS}, xid FROM entity_changes
    WHERE (xid, seq) > ($1::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY entity_changes.xid, entity_changes.seq LIMIT $3) AS batch ON true
  ORDER BY batch.xid, batch.seq`;

/**
 * A statement without parameters, named (prepared once per connection) so that it joins the
 * one Sync of its round trip (statement-batch.ts) instead of travelling with a Sync of its own:
 * each Sync is a ReadyForQuery the backend flushes, and a read of the answer here.
 */
const named = (text: string) => ({ name: statementName(text), text, values: [] });

const BEGIN = named("BEGIN");
/** SQLSTATE of a statement skipped behind a failed one (in_failed_sql_transaction). */
const NOT_RUN = "25P02";
// The name withPipelinedTransaction gives it: the connection goes back to the pool after a term.
const COMMIT = { name: "vantage_commit", text: "COMMIT", values: [] };
/** Sent right before COMMIT of a batch whose writes every sink called loseable. */
const LOSEABLE_COMMIT = named("SET LOCAL synchronous_commit TO off");

/**
 * The router's statements are named (prepared on its connection) and run with generic plans
 * while it leads: their texts are constants over array parameters, and under the default plan
 * cache mode PostgreSQL planned several of them again at every batch (a custom plan for a batch's
 * few array elements looks cheaper than the generic plan, costed for 100, so it never switched):
 * the scope states' read took 0.4 ms of planning for 0.05 ms of execution (bench/automation-latency
 * --statement-stats). Their generic plans probe the same indexes per array element
 * (docs/benchmarks/2026-12-04-router-trips.md). Reset before the connection goes back to the pool.
 */
const GENERIC_PLANS = "SET plan_cache_mode TO force_generic_plan";
const DEFAULT_PLANS = "RESET plan_cache_mode";

const ENSURE_CURSOR = `INSERT INTO entity_consumer_cursors (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING`;
const READ_CURSOR = `SELECT last_xid::text AS xid, last_seq AS seq FROM entity_consumer_cursors WHERE consumer = $1`;
const ADVANCE_CURSOR = `UPDATE entity_consumer_cursors SET last_xid = $2::xid8, last_seq = $3, updated_at = now() WHERE consumer = $1`;

export interface EntityRouterOptions {
  pool: pg.Pool;
  registry: Pick<EntityRegistry, "deriveEvents" | "toPayload">;
  hub: NotificationHub;
  logger: Logger;
  /** Name of the durable cursor. */
  consumer?: string;
  batchSize?: number;
  /**
   * Changes per read while behind (the last read was a full batch): a backlog — a mass
   * outage's losses and their runs' changes — goes through in fewer, larger transactions,
   * each costing the sink the same few round trips (default 1,000).
   */
  backlogBatchSize?: number;
  /** Fallback poll when no NOTIFY arrives. */
  pollIntervalMs?: number;
  /** How often a standby instance tries to become the router. */
  takeoverIntervalMs?: number;
  /** First retry delay after a sink failure; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * How long the cursor may stay moved in memory only (past batches no sink wrote for) before
   * the router persists it: with the next batch that writes, or once this long has passed —
   * at the next batch, or on an idle poll. A crash re-routes at most that long's batches,
   * which decide nothing again (default 1,000 ms).
   */
  cursorPersistMs?: number;
  /** Observes the loop (tests, metrics): after each routed batch, and each empty read. */
  observer?: RouterObserver;
}

export interface RouterObserver {
  /** `committed`: the batch's transaction committed; false when no sink had a write for it (no transaction). */
  onBatch?(batch: readonly RoutedChange[], outcome: { committed: boolean }): void;
  /** A non-empty batch read from the outbox, about to be judged (bench/automation-latency: commit → read → routed). */
  onRead?(changeIds: readonly string[]): void;
  /** `heldBack`: committed changes exist that wait for an older open transaction. */
  onIdle?(heldBack: boolean): void;
}

export interface EntityRouter {
  /** Adds a sink; returns its removal. Add sinks before start(). */
  addSink(sink: ChangeSink): () => void;
  start(): void;
  /** Finishes the batch in hand, releases the lock and the connection. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

type OutboxRow = ChangeRow & { xid_text: string };
/** A row of READ_AHEAD: a change, or (alone, every column NULL but `held`) the answer that there is none. */
type AheadRow = OutboxRow & { held: boolean | null };

interface Cursor {
  xid: string;
  seq: string;
}

class ConnectionLost extends Error {}

export function createEntityRouter(options: EntityRouterOptions): EntityRouter {
  const { pool, registry, hub, logger } = options;
  const consumer = options.consumer ?? "router";
  const batchSize = options.batchSize ?? 200;
  const backlogBatchSize = Math.max(batchSize, options.backlogBatchSize ?? 1000);
  /** The size of the read after one that returned `read` changes: a full batch means more wait. */
  const limitAfter = (read: number) => (read >= batchSize ? backlogBatchSize : batchSize);
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const cursorPersistMs = options.cursorPersistMs ?? 1000;
  const takeoverIntervalMs = options.takeoverIntervalMs ?? 1000;
  const retryPolicy = { baseMs: options.retryBaseMs ?? 100, maxMs: options.retryMaxMs ?? 5000, jitter: "none" } as const;
  const log = logger.child({ component: "entity-router", consumer });

  const sinks = new Set<ChangeSink>();
  // The follower's sleep, which every change NOTIFY cuts short.
  const wakeup = createWakeableSleep();
  // A standby's sleep between attempts to take the lock: its own, so the NOTIFYs of the
  // leader's changes do not wake it. They did: a standby tried the lock (a round trip, and a
  // wake of a backend) on every change NOTIFY of any core, back to back under steady change
  // traffic, for nothing (docs/benchmarks/2026-12-03-two-cores-router-standby.md).
  const takeover = createWakeableSleep();
  let running = false;
  let loop: Promise<void> | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let unsubscribeReconnect: (() => void) | undefined;

  const route = (row: ChangeRow): RoutedChange => {
    const change = changeFromRow(row);
    return { change, eventIds: registry.deriveEvents(change), payload: registry.toPayload(change) };
  };

  /** What follows the cursor: the next batch, and whether committed rows wait behind an older open transaction. */
  interface Ahead {
    rows: OutboxRow[];
    heldBack: boolean;
  }

  // The held-back check is asked with the read (READ_AHEAD): it only matters when the batch is
  // empty, but asking it after an empty read would cost a round trip of its own.
  const readAhead = (client: pg.PoolClient, cursor: Cursor, limit: number): Promise<Ahead> => {
    const reading = withPreparedStatements(client)
      .query<AheadRow>(READ_AHEAD, [cursor.xid, cursor.seq, limit])
      .then(({ rows }): Ahead => (rows[0]!.held === null ? { rows, heldBack: false } : { rows: [], heldBack: rows[0]!.held }));
    reading.catch(() => undefined); // awaited by the loop, or discarded after a failed batch
    return reading;
  };

  /**
   * What each sink will write for the batch, judged before any transaction opens: sinks
   * without `prepare` always write; the others said what (null: nothing). Their reads go
   * out together on the router's connection, pipelined.
   */
  const prepare = async (
    db: SqlClient,
    batch: readonly RoutedChange[],
    prepareOptions: PrepareOptions,
  ): Promise<Array<{ sink: ChangeSink; delivery: SinkDelivery }>> => {
    const list = [...sinks];
    const planned = await settledInOrder(
      list.map((sink) =>
        sink.prepare ? sink.prepare(batch, db, prepareOptions) : Promise.resolve<SinkDelivery>((tx, deliverOptions) => sink.deliver(batch, tx, deliverOptions)),
      ),
    );
    return list.flatMap((sink, index) => {
      const delivery = planned[index];
      return delivery ? [{ sink, delivery }] : [];
    });
  };

  /**
   * Delivers one batch to the sinks that write for it and advances the cursor, all in one
   * transaction. COMMIT goes out as soon as the last sink has issued its last statement (it
   * may say so before their answers), and the read that follows the batch right behind it:
   * they share a round trip. That read is returned when the batch committed; after a failure
   * it is discarded (it reads from where the cursor did not move) and the batch is to be retried.
   */
  const commitBatch = async (
    client: pg.PoolClient,
    tx: SqlClient,
    batch: readonly RoutedChange[],
    writers: ReadonlyArray<{ sink: ChangeSink; delivery: SinkDelivery }>,
    after: Cursor,
  ): Promise<{ next: Promise<Ahead> } | undefined> => {
    let committing: Promise<pg.QueryResult> | undefined;
    let next: Promise<Ahead> | undefined;
    // The sinks whose writes for this batch a crash of the database may lose (see DeliverOptions.loseable).
    const loseable = new Set<ChangeSink>();
    const commit = () => {
      if (committing) return;
      // Most batches are the executor's run-status changes, which decide nothing: their
      // commits, one per router wake, need not wait for the WAL flush, while a change that
      // starts a run waits behind the batch in hand (bench/automation-latency). A batch
      // without writers only persists the cursor moved in memory: loseable as well.
      if (loseable.size === writers.length) client.query(LOSEABLE_COMMIT).catch(() => undefined); // a failure rolls COMMIT back
      committing = client.query(COMMIT);
      committing.catch(() => undefined); // awaited below
      next = readAhead(client, after, limitAfter(batch.length));
    };
    // COMMIT shares its round trip's one Sync with the sinks' last statements: behind one that
    // failed it is not run at all (failed with 25P02, statement-batch.ts), and nothing committed.
    const committed = () =>
      committing!.then(
        (result) => result.command === "COMMIT",
        (error: unknown) => {
          if ((error as { code?: unknown }).code === NOT_RUN) return false;
          throw error;
        },
      );
    // The sinks' callbacks told how the transaction ended (DeliverOptions.whenSettled).
    const settledCallbacks: Array<(outcome: BatchOutcome) => void> = [];
    const whenSettled = (callback: (outcome: BatchOutcome) => void) => void settledCallbacks.push(callback);
    const settle = (outcome: BatchOutcome) => {
      for (const callback of settledCallbacks.splice(0)) {
        try {
          callback(outcome);
        } catch (error) {
          log.error({ err: error, outcome }, "a sink's callback on its batch's end failed");
        }
      }
    };
    try {
      // BEGIN and the cursor travel with the sinks' first statements (the cursor's place in
      // the transaction does not matter: it commits with the decisions or not at all).
      const begun = Promise.all([client.query(BEGIN), tx.query(ADVANCE_CURSOR, [consumer, after.xid, after.seq])]);
      begun.catch(() => undefined); // awaited below; a failure here fails the sinks' statements too
      for (const [index, { sink, delivery }] of writers.entries()) {
        const markLoseable = () => void loseable.add(sink);
        const shared = { loseable: markLoseable, whenSettled };
        await delivery(tx, index === writers.length - 1 ? { ...shared, issuedAll: commit } : shared);
      }
      await begun;
      commit();
      // COMMIT of a failed transaction answers ROLLBACK, without an error.
      if (!(await committed())) throw new Error("the router's transaction was rolled back at COMMIT");
      settle("committed");
      options.observer?.onBatch?.(batch, { committed: true });
      return { next: next! };
    } catch (error) {
      // COMMIT unanswered (the connection failed with it in flight): it may have committed.
      const outcome: BatchOutcome = committing
        ? await committed().then(
            (done) => (done ? "committed" : "rolled_back"),
            () => "unknown",
          )
        : "rolled_back";
      // A sink that failed after its statements (and so COMMIT) were sent: what committed stands.
      if (outcome === "committed") {
        log.warn({ err: error, firstSeq: batch[0]!.change.seq, size: batch.length }, "a sink failed after its batch committed");
        settle(outcome);
        options.observer?.onBatch?.(batch, { committed: true });
        return { next: next! };
      }
      settle(outcome);
      await next?.catch(() => undefined);
      // A rollback that fails means the connection (and with it the lock) is gone.
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        throw new ConnectionLost("router connection lost", { cause: rollbackError });
      });
      log.warn({ err: error, firstSeq: batch[0]!.change.seq, size: batch.length }, "a sink refused a batch; retrying");
      return undefined;
    }
  };

  /**
   * Routes one batch: judged first (the sinks' `prepare`), then committed with the cursor if
   * any sink writes for it or the cursor moved in memory is due to be persisted; otherwise only
   * the in-memory cursor moves (`persisted: false`) and the next read goes out at once.
   * Undefined when a sink refused the batch (to be retried).
   */
  const deliver = async (
    client: pg.PoolClient,
    rows: Array<OutboxRow>,
    persistDue: boolean,
    firstDelivery: boolean,
  ): Promise<{ next: Promise<Ahead>; persisted: boolean } | undefined> => {
    const batch = rows.map(route);
    const last = rows.at(-1)!;
    const after = { xid: last.xid_text, seq: last.seq };
    // The sinks' statements run named: their texts are constants over array parameters, and
    // the admission's were parsed and planned again at every batch (bench/automation-latency
    // --statement-stats, plan ms).
    const db = withPreparedStatements(client);
    // The next read, sent with a sink's own reads when one expects the batch to write nothing:
    // one round trip per such batch instead of two. Outside any transaction, from `after`.
    let ahead: Promise<Ahead> | undefined;
    const readingAhead = () => void (ahead ??= readAhead(client, after, limitAfter(rows.length)));
    let writers: Awaited<ReturnType<typeof prepare>>;
    try {
      writers = await prepare(db, batch, { readingAhead, firstDelivery });
    } catch (error) {
      // Only reads went out, outside a transaction: nothing to roll back.
      await ahead?.catch(() => undefined);
      log.warn({ err: error, firstSeq: batch[0]!.change.seq, size: batch.length }, "a sink could not judge a batch; retrying");
      return undefined;
    }
    if (writers.length === 0 && !persistDue) {
      // Decides nothing: no transaction, no commit. Routed again after a crash (the durable
      // cursor is behind it), it decides nothing again — each sink's `prepare` promised that.
      options.observer?.onBatch?.(batch, { committed: false });
      return { next: ahead ?? readAhead(client, after, limitAfter(rows.length)), persisted: false };
    }
    // Read before the transaction: the read that follows its COMMIT sees what committed meanwhile.
    await ahead?.catch(() => undefined);
    const delivered = await commitBatch(client, db, batch, writers, after);
    return delivered && { ...delivered, persisted: true };
  };

  const follow = async (client: pg.PoolClient) => {
    await client.query(ENSURE_CURSOR, [consumer]);
    const { rows } = await client.query<Cursor>(READ_CURSOR, [consumer]);
    // Reset in the `finally` below (nothing between here and its `try` awaits).
    await client.query(GENERIC_PLANS);
    let cursor = rows[0]!;
    // Since when the cursor has moved past batches in memory only (undefined: it is persisted).
    let unpersistedSince: number | undefined;
    const persistDue = () => unpersistedSince !== undefined && performance.now() - unpersistedSince >= cursorPersistMs;
    /** Persists the in-memory cursor on its own (an idle poll, a stop): one statement, autocommit. */
    const persistCursor = async () => {
      if (unpersistedSince === undefined) return;
      await withPreparedStatements(client).query(ADVANCE_CURSOR, [consumer, cursor.xid, cursor.seq]);
      unpersistedSince = undefined;
    };
    const retry = createBackoff(retryPolicy);
    // Committed changes wait beyond the horizon: look again soon, then less often.
    const heldBack = createBackoff({ baseMs: 10, maxMs: pollIntervalMs, jitter: "none" });
    // Pipelined throughout: a sink's statements that need no answer from each other share
    // round trips (answered in order), and each batch's COMMIT travels with the next read.
    // The statements issued in one tick go as one batch closed by one Sync (statement-batch.ts):
    // a router batch was some ten statements, each answered and flushed by the backend on its
    // own (bench/automation-latency). BEGIN and COMMIT are named so they join it. Sound here: a
    // statement that fails skips the rest of its batch, and the router takes that as the batch's
    // failure — inside its transaction, COMMIT skipped is a rollback (the read sent behind it is
    // discarded with it); outside one, a batch is reads only (the read ahead, and a sink's reads
    // before its transaction), and the batch is judged and read again.
    setPipelined(client, true, true);
    let next: Promise<Ahead> | undefined;
    // The last batch failed: the batch read next may be it again, and may have committed (PrepareOptions.firstDelivery).
    let retrying = false;
    try {
      while (running) {
        const ahead = await (next ?? readAhead(client, cursor, batchSize));
        next = undefined;
        if (ahead.rows.length > 0) {
          options.observer?.onRead?.(ahead.rows.map((row) => row.change_id));
          const delivered = await deliver(client, ahead.rows, persistDue(), !retrying);
          retrying = !delivered;
          if (delivered) {
            next = delivered.next;
            const last = ahead.rows.at(-1)!;
            cursor = { xid: last.xid_text, seq: last.seq };
            if (delivered.persisted) unpersistedSince = undefined;
            else unpersistedSince ??= performance.now();
            retry.reset();
            heldBack.reset();
          } else {
            await wakeup.sleep(retry.next());
          }
          continue;
        }
        options.observer?.onIdle?.(ahead.heldBack);
        if (persistDue()) await persistCursor();
        // An older transaction is still open, or rolled back without a NOTIFY: look again soon.
        // A cursor moved in memory only is persisted on the poll after its time is up.
        const persistIn = unpersistedSince === undefined ? Infinity : cursorPersistMs - (performance.now() - unpersistedSince);
        await wakeup.sleep(Math.max(0, Math.min(ahead.heldBack ? heldBack.next() : pollIntervalMs, persistIn)));
      }
    } finally {
      // Nothing may be in flight when the connection goes back (or the pipeline is switched off).
      await next?.catch(() => undefined);
      // A stop persists what moved in memory, so the next router does not route it again
      // (a failure here — the connection is gone — only means it will, deciding nothing).
      await persistCursor().catch((error: unknown) => log.warn({ err: error }, "the router's cursor could not be persisted at stop"));
      setPipelined(client, false);
      // A failure means the connection is gone, and the pool drops it.
      await client.query(DEFAULT_PLANS).catch(() => undefined);
    }
  };

  const leadership = createLeaderLoop({
    pool,
    lock: AdvisoryLock.entityRouter,
    duty: "entity router",
    logger: log,
    takeoverIntervalMs,
    sleep: takeover,
    isRunning: () => running,
    lead: follow,
  });

  return {
    addSink(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        unsubscribe = await hub.subscribe(ENTITY_CHANGES_CHANNEL, () => wakeup.wake());
        // Missed NOTIFYs during a reconnect: look at the outbox right away.
        unsubscribeReconnect = hub.onReconnect(() => wakeup.wake());
        await leadership.run();
      })().catch((error: unknown) => log.error({ err: error }, "entity router stopped unexpectedly"));
    },
    async stop() {
      running = false;
      wakeup.wake();
      takeover.wake();
      await loop;
      wakeup.clear();
      takeover.clear();
      unsubscribeReconnect?.();
      await unsubscribe?.();
      loop = undefined;
    },
    isLeader: leadership.isLeader,
  };
}
