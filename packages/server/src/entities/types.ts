// The contracts of the entity framework: what a module supplies to define an entity
// kind, what it gets back, and what consumers of the change outbox see.
import type { Actor, Cause, EntityChanged } from "@vantage/protocol";
import type pg from "pg";
import type { z } from "zod";

/** Anything that runs SQL: the pool, or the client of an open transaction. */
export type SqlClient = Pick<pg.ClientBase, "query">;

/** Current states by id; ids without state are absent. A Map or a plain record. */
export type EntityReadResult<State> = ReadonlyMap<string, State> | Readonly<Record<string, State>>;

/**
 * The owner's batched read of current state. Inside `mutate` it receives the
 * transaction, so prev and next are read where the write happens; elsewhere `db` is
 * undefined and the owner uses its own pool.
 */
export type EntityRead<State> = (ids: readonly string[], db?: SqlClient) => Promise<EntityReadResult<State>>;

export interface EntityDefinition<Schema extends z.ZodObject> {
  kind: string;
  schema: Schema;
  read: EntityRead<z.infer<Schema>>;
}

/** One SQL statement and its parameters. */
export interface SqlStatement {
  text: string;
  values?: unknown[];
}

export interface MutateOptions {
  id: string;
  actor: Actor;
  cause?: Cause | null;
  /**
   * The owner's own write, in the mutation's transaction; throwing (or a failing statement)
   * rolls everything back. The statements it issues before its first await are sent together
   * with the reads of prev and next, so the whole mutation takes two round trips (one more
   * per statement it awaits before issuing another; it may read what it wrote). A function
   * is called before prev is read back, and may be called a second time, after its first
   * run's transaction was rolled back: when the kind's read turns out to issue a statement
   * only after an answer (checked once per kind), so keep any effect outside `tx` repeatable.
   */
  apply: ((tx: SqlClient) => Promise<unknown>) | SqlStatement;
}

export interface MutateManyOptions {
  ids: readonly string[];
  /** Who did it: one actor for all, or each entity's own (satellites connecting drive their own edges). */
  actor: Actor | ((id: string) => Actor);
  /** What led to it: one cause for all, or each entity's own. */
  cause?: Cause | null | ((id: string) => Cause | null);
  /** One write for all of them, in the transaction; receives the ids (deduplicated, sorted). */
  apply: (tx: SqlClient, ids: readonly string[]) => Promise<unknown>;
  /**
   * `apply` does not need prev, only writes in the transaction and sets what it finds (it may
   * run a second time, after a rollback): in our own transaction its statements then ride with
   * the lock and the read of prev, one round trip fewer (a connect storm's batches).
   */
  repeatableApply?: boolean;
  /**
   * A transaction the caller opened (and will commit): the changes are recorded in it, so
   * they commit with the caller's own writes (check results and the health they cause). The
   * caller announces the recorded changes with `announce` once it committed.
   */
  tx?: SqlClient;
  /**
   * With `tx`: the caller already holds locks that serialize every writer of these entities
   * (taken in one order, such as the checks' rows behind check-health), so no advisory lock
   * is taken per entity — a mass outage's thousand of them per batch.
   */
  locked?: boolean;
  /**
   * With `tx`: sends the caller's COMMIT right behind the outbox rows, in their round trip (a
   * pipelined transaction's `commit`); for a caller with nothing left to do in the transaction.
   */
  commit?: () => void;
  /**
   * The owner's statements that ride with the outbox rows, before COMMIT, in their round trip
   * (issued before its first await): what the changes mean elsewhere, writing no entity state
   * (satellites going offline make their checks due). Called once `apply` ran for good, so once
   * per committed transaction; its failure rolls everything back.
   */
  beforeCommit?: (tx: SqlClient) => Promise<unknown>;
}

export interface MutateResult<State> {
  prev: State | null;
  next: State | null;
  /** The recorded change, or null when the state did not change (nothing recorded). */
  change: EntityChanged | null;
}

export interface HistoryOptions {
  /** Only changes that occurred at or after this instant. */
  since?: Date;
  /** At most this many changes (default 100, at most 1000). */
  limit?: number;
}

export interface EntityHandle<State> {
  readonly kind: string;
  get(id: string): Promise<State | null>;
  getMany(ids: readonly string[]): Promise<Map<string, State>>;
  mutate(options: MutateOptions): Promise<MutateResult<State>>;
  /**
   * Many entities of this kind in ONE transaction: all locked (in sorted order), read in one
   * batch before and after the owner's single write, and recorded in one statement. For
   * bulk edges such as a mass heartbeat loss. One result per distinct id, sorted by id.
   */
  mutateMany(options: MutateManyOptions): Promise<Array<MutateResult<State> & { id: string }>>;
  /** Announces changes recorded in a caller's transaction (`mutateMany({ tx })`), after it committed. */
  announce(changes: Iterable<EntityChanged>): void;
  /** Like mutate, but records a tombstone (next = null); `apply` deletes the owner's row. */
  remove(options: MutateOptions): Promise<MutateResult<State>>;
  /** When `field` last changed to its current value; null if it never did. */
  inStateSince(id: string, field: string): Promise<Date | null>;
  /** The entity's changes, newest first. */
  history(id: string, options?: HistoryOptions): Promise<EntityChanged[]>;
}

/** Turns a change into qualified trigger event ids (`<module>.<trigger>`). Pure. */
export type ChangeDeriver = (change: EntityChanged) => readonly string[];

/** Turns a change into the domain-named trigger payload its triggers declare. Pure. */
export type PayloadMapper = (change: EntityChanged) => unknown;

export interface ChangeDeriverRegistration {
  kind: string;
  derive: ChangeDeriver;
  /** Every event id `derive` may emit, so a replay reads only the kinds that can fire a draft. Absent: it may emit any. */
  emits?: readonly string[];
  toPayload?: PayloadMapper;
}

/** A change as the router hands it to sinks. */
export interface RoutedChange {
  change: EntityChanged & { seq: number; changeId: string };
  eventIds: string[];
  payload: unknown;
}

/**
 * A consumer of routed changes. `deliver` runs inside the router's transaction, the one
 * that also advances the cursor: writes through `tx` commit exactly when the cursor moves
 * past the batch. If any sink throws, the whole batch is retried later, so a sink keeps
 * side effects outside `tx` idempotent by `change.changeId`. `tx` is in pg's pipeline mode:
 * statements issued without awaiting each other share a round trip (and run in issue order);
 * a sink settles every statement it issued before it returns.
 */
export interface ChangeSink {
  name: string;
  deliver(batch: readonly RoutedChange[], tx: SqlClient, options?: DeliverOptions): Promise<void>;
  /**
   * Optional: judges the batch before the router opens a transaction, reading through `db`
   * (the router's connection, outside any transaction; reads only). Returns the batch's
   * delivery (run in the router's transaction like `deliver`), or null when this sink has
   * nothing to write for it. When no sink has, the router opens no transaction: it moves its
   * cursor in memory and persists it with a later batch (docs/architecture.md, "Batches that
   * decide nothing"). So null is only sound when delivering the batch again after a crash
   * would decide nothing the sink must not decide twice.
   */
  prepare?(batch: readonly RoutedChange[], db: SqlClient, options?: PrepareOptions): Promise<SinkDelivery | null>;
}

export interface PrepareOptions {
  /**
   * The sink calls this right before it issues reads for a batch that may well write
   * nothing: the router then sends its read of the next batch in the same round trip, and
   * goes straight on with it if no sink writes (it is discarded otherwise).
   */
  readingAhead?: () => void;
  /**
   * True when no transaction has committed a delivery of these changes: a sink need not look
   * for what an earlier delivery decided (a redelivered change must not be decided again).
   * The router says so of every batch it routes but a retry — a batch routed again after an
   * attempt that failed, whose COMMIT it may not have seen the answer of: its cursor commits
   * with every delivery, and it reads past its durable cursor (docs/architecture.md, "Routing
   * without gaps"). Absent: unknown.
   */
  firstDelivery?: boolean;
}

/** A prepared batch's writes, in the router's transaction (the same contract as `deliver`). */
export type SinkDelivery = (tx: SqlClient, options?: DeliverOptions) => Promise<void>;

export interface DeliverOptions {
  /**
   * Given to the last sink: it may call this once it has issued its last statement, before
   * their answers come back. The router then sends COMMIT (and its next read) right behind
   * them, in the same round trip. If one of them fails, COMMIT rolls back and the batch is
   * retried as if the sink had thrown. The sink still settles every statement before it returns.
   */
  issuedAll?: () => void;
  /**
   * The sink calls this (before it returns, or the last sink before `issuedAll`) when what it
   * wrote for the batch may be lost with a crash of the database: routed again after one, the
   * batch decides nothing the sink must not decide twice. If every sink says so, the batch's
   * COMMIT does not wait for the WAL flush (it is still atomic, and flushed by the next commit
   * that does wait).
   */
  loseable?: () => void;
  /**
   * Registers a callback told how the batch's transaction ended, once it has: `committed`,
   * `rolled_back`, or `unknown` (the connection failed with COMMIT in flight: it may have
   * committed). Called exactly once per registration, after `deliver` returned or threw, never
   * inside the transaction. A sink hands work it locked for this process onward only after
   * `committed` (automation-sink.ts: runs handed to the local worker).
   */
  whenSettled?: (callback: (outcome: BatchOutcome) => void) => void;
}

/** How a router batch's transaction ended (DeliverOptions.whenSettled). */
export type BatchOutcome = "committed" | "rolled_back" | "unknown";
