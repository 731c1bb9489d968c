// One entity kind: reads current state through its owner, and records every change as
// one transaction holding the owner's write, the outbox row and the per-field history
// (announced after commit), in as few round trips as the owner's write allows.
import type { Actor, Cause, EntityChanged, EntityState } from "@vantage/protocol";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import { hashedLockKey, LockKey, timeOrderedUuid } from "../storage/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "./outbox/change-row.ts";
import { type CanonicalState, canonicalize, diffCanonical } from "./diff.ts";
import type { ChangeNotifier } from "./outbox/change-notifier.ts";
import { isPipelined, type PipelinedTransaction, settledInOrder, statementsIssued, withPipelinedTransaction } from "./pipelined-transaction.ts";
import { withPreparedStatements, withPreparedStatementsOnce } from "./prepared-statements.ts";
import type { EntityDefinition, EntityHandle, EntityReadResult, HistoryOptions, MutateManyOptions, MutateOptions, MutateResult, SqlClient } from "./types.ts";

/** The transitions of the changes just inserted by a CTE named `change`: one row per changed field. */
const RECORD_TRANSITIONS = `transitions AS (
    INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
    SELECT change.seq, change.kind, change.entity_id, field.name, change.prev -> field.name, change.next -> field.name, change.occurred_at
    FROM change, unnest(change.changed_fields) AS field(name)
  )`;

/**
 * Inserts the outbox rows and one transition per changed field, for one or many changes
 * of one kind, in one round trip. The changes arrive as one JSON array (changed_fields
 * differ in length per row, which parallel unnest() arrays cannot carry).
 */
const RECORD_CHANGES = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS r(change_id uuid, entity_id text, prev jsonb, next jsonb, delta jsonb, changed_fields text[], actor jsonb, cause jsonb)
  ), change AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    SELECT change_id, $2, entity_id, prev, next, delta, changed_fields, actor, cause FROM input
    RETURNING seq, change_id, kind, entity_id, prev, next, changed_fields, occurred_at
  ), ${RECORD_TRANSITIONS}
  SELECT change_id, seq, occurred_at FROM change`;

/**
 * The same for one change (every `mutate`), its values as parameters: no JSON array to build,
 * parse and take apart again on the way.
 */
const RECORD_CHANGE = `
  WITH change AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    RETURNING seq, change_id, kind, entity_id, prev, next, changed_fields, occurred_at
  ), ${RECORD_TRANSITIONS}
  SELECT change_id, seq, occurred_at FROM change`;

/** Locks many entities in one round trip, in the caller's (sorted) order: no deadlocks. */
const LOCK_MANY = `SELECT count(pg_advisory_xact_lock(${hashedLockKey("key")})) FROM unnest($1::text[]) AS key`;

/** Locks one entity: a prepared statement sent right behind BEGIN, in the same round trip. */
const LOCK_ONE = `SELECT pg_advisory_xact_lock(${hashedLockKey("$1::text")})`;

const HISTORY = `
  SELECT ${CHANGE_COLUMNS} FROM entity_changes
  WHERE kind = $1 AND entity_id = $2 AND ($3::timestamptz IS NULL OR occurred_at >= $3)
  ORDER BY seq DESC LIMIT $4`;

const LAST_TRANSITION = `
  SELECT occurred_at FROM entity_transitions
  WHERE kind = $1 AND entity_id = $2 AND field = $3
  ORDER BY seq DESC LIMIT 1`;

/** Thrown inside a pipelined mutation whose prev read issued a statement after the write. */
const READ_AFTER_WRITE = new Error("the read of prev issued a statement after the write");

interface PendingChange {
  changeId: string;
  id: string;
  prev: EntityState | null;
  next: EntityState | null;
  delta: EntityState;
  changedFields: string[];
}

/**
 * `client` as a wrapper that calls `onQuery` before each statement issued through it, and is
 * pipelined when `client` is (a read may ask isPipelined whether to send its statements at once).
 */
function observedClient(client: SqlClient, onQuery: () => void): SqlClient {
  return {
    pipeline: isPipelined(client),
    query: ((...args: unknown[]) => {
      onQuery();
      return (client.query as (...a: unknown[]) => unknown)(...args);
    }) as SqlClient["query"],
  } as SqlClient;
}

/**
 * Runs the owner's `apply` and reads the state after it. On a pipelined client the read is
 * sent right behind the statements `apply` issued before its first await, in the same round
 * trip. Should `apply` issue another statement later, the read ran before it: it is sent again
 * once `apply` finished. Nothing is rolled back or run twice, so any `apply` is safe here.
 */
async function applyThenRead<T>(client: SqlClient, apply: () => Promise<unknown>, readNext: (client: SqlClient) => Promise<T>): Promise<T> {
  if (!isPipelined(client)) {
    await apply();
    return readNext(client);
  }
  const applying = apply();
  const issuedBeforeRead = statementsIssued(client);
  let issuedByRead = 0;
  const counted: SqlClient = {
    query: ((...args: unknown[]) => {
      issuedByRead++;
      return (client.query as (...a: unknown[]) => unknown)(...args);
    }) as SqlClient["query"],
  };
  const reading = readNext(counted);
  const [, next] = await settledInOrder<[unknown, T]>([applying, reading]);
  const issuedByApplyLater = statementsIssued(client) - issuedBeforeRead - issuedByRead;
  return issuedByApplyLater === 0 ? next : readNext(client);
}

function toMap<State>(result: EntityReadResult<State>): Map<string, State> {
  return result instanceof Map ? new Map(result) : new Map(Object.entries(result as Record<string, State>));
}

/** One entity's state in a read's result, without copying the result (as toMap does for callers). */
function stateOf<State>(result: EntityReadResult<State>, id: string): State | null {
  if (result instanceof Map) return (result as ReadonlyMap<string, State>).get(id) ?? null;
  const record = result as Readonly<Record<string, State>>;
  return Object.hasOwn(record, id) ? (record[id] ?? null) : null;
}

export function defineEntityHandle<Schema extends z.ZodObject>(
  pool: pg.Pool,
  notifier: ChangeNotifier,
  definition: EntityDefinition<Schema>,
): EntityHandle<z.infer<Schema>> {
  type State = z.infer<Schema>;
  const { kind, schema, read } = definition;

  // Inside a mutation the owner's statements run named (prepared once per connection).
  const readOne = async (id: string, tx: SqlClient): Promise<State | null> => stateOf(await read([id], withPreparedStatementsOnce(tx)), id);

  const validate = (id: string, state: State | null): State | null => {
    if (state === null) return null;
    const parsed = schema.safeParse(state);
    if (!parsed.success) {
      throw new VantageError("invalid_input", "invalid_entity_state", `${kind} ${id}: the new state is invalid: ${z.prettifyError(parsed.error)}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  };

  /** The change from prev to next, or null when nothing changed (nothing is recorded). */
  const pendingChange = (id: string, prev: State | null, next: State | null): PendingChange | null => {
    // Canonicalized once: the diff compares and the outbox row records the same values.
    const canonicalPrev = prev === null ? null : (canonicalize(prev) as CanonicalState);
    const canonicalNext = next === null ? null : (canonicalize(next) as CanonicalState);
    const { changedFields, delta } = diffCanonical(canonicalPrev, canonicalNext);
    const existenceChanged = (prev === null) !== (next === null);
    if (changedFields.length === 0 && !existenceChanged) return null;
    return {
      // Time-ordered: the runs and skips a change decides are keyed by it (their unique keys
      // and automation_runs_by_change), and a random id put each of those inserts on a random
      // index page (storage/time-ordered-uuid.ts).
      changeId: timeOrderedUuid(),
      id,
      prev: canonicalPrev as EntityState | null,
      next: canonicalNext as EntityState | null,
      delta: delta as EntityState,
      changedFields,
    };
  };

  /** The event of a recorded change, stamped with what the database decided. */
  const recordedChange = (change: PendingChange, row: { seq: string; occurred_at: Date }, actor: Actor, cause: Cause | null): EntityChanged => ({
    seq: Number(row.seq),
    changeId: change.changeId,
    kind,
    id: change.id,
    prev: change.prev,
    next: change.next,
    delta: change.delta,
    changedFields: change.changedFields,
    actor,
    cause,
    occurredAt: row.occurred_at.toISOString(),
  });

  /** Records one change (every `mutate`) in the open transaction, its values as parameters. */
  const recordChange = async (tx: SqlClient, change: PendingChange, actor: Actor, cause: Cause | null): Promise<EntityChanged> => {
    const {
      rows: [row],
    } = await tx.query<{ change_id: string; seq: string; occurred_at: Date }>({
      name: "vantage_record_change",
      text: RECORD_CHANGE,
      values: [change.changeId, kind, change.id, change.prev, change.next, change.delta, change.changedFields, actor, cause],
    });
    return recordedChange(change, row!, actor, cause);
  };

  /** Records changes in the open transaction; only what the database decides comes back. */
  const recordChanges = async (
    tx: SqlClient,
    pending: PendingChange[],
    actorOf: (id: string) => Actor,
    causeOf: (id: string) => Cause | null,
  ): Promise<Map<string, EntityChanged>> => {
    const recorded = new Map<string, EntityChanged>();
    if (pending.length === 0) return recorded;
    if (pending.length === 1) {
      const [single] = pending as [PendingChange];
      return recorded.set(single.id, await recordChange(tx, single, actorOf(single.id), causeOf(single.id)));
    }
    const { rows } = await tx.query<{ change_id: string; seq: string; occurred_at: Date }>({
      name: "vantage_record_changes",
      text: RECORD_CHANGES,
      values: [
        JSON.stringify(
          pending.map((c) => ({
            change_id: c.changeId,
            entity_id: c.id,
            prev: c.prev,
            next: c.next,
            delta: c.delta,
            changed_fields: c.changedFields,
            actor: actorOf(c.id),
            cause: causeOf(c.id),
          })),
        ),
        kind,
      ],
    });
    const stamped = new Map(rows.map((row) => [row.change_id, row]));
    for (const change of pending) recorded.set(change.id, recordedChange(change, stamped.get(change.changeId)!, actorOf(change.id), causeOf(change.id)));
    return recorded;
  };

  const announce = (changes: Iterable<EntityChanged>) => {
    for (const change of changes) if (change.seq !== undefined) notifier.committed(change.seq);
  };

  /** The entity's lock, sent behind BEGIN: concurrent mutations of one entity queue here. */
  const lockOne = (tx: SqlClient, id: string) => tx.query({ name: "vantage_lock_entity", text: LOCK_ONE, values: [LockKey.entity(kind, id)] });

  /**
   * Records the change from prev to next (if any) and sends COMMIT behind it: one round
   * trip. recordChanges issues its statement before its first await, so COMMIT follows it.
   */
  const finish = async (tx: PipelinedTransaction, id: string, prev: State | null, next: State | null, actor: Actor, cause: Cause | null) => {
    const pending = pendingChange(id, prev, next);
    const recording = pending === null ? null : recordChange(tx.client, pending, actor, cause);
    tx.commit();
    return { prev, next, change: recording === null ? null : await recording };
  };

  /**
   * The mutation in turns, for a kind whose read takes more than one round trip: [BEGIN,
   * lock, read prev] → [the owner's apply, read next] → [outbox row, COMMIT] (one more round
   * trip per statement the owner awaits before issuing another).
   */
  const recordInTurns = (id: string, actor: Actor, cause: Cause | null, apply: (tx: SqlClient) => Promise<unknown>, tombstone: boolean) =>
    withPipelinedTransaction(pool, "BEGIN", async (tx) => {
      const [, prev] = await settledInOrder<[unknown, State | null]>([lockOne(tx.client, id), readOne(id, tx.client)]);
      const next = await applyThenRead(
        tx.client,
        () => apply(withPreparedStatements(tx.client)),
        (client) => (tombstone ? Promise.resolve(null) : readOne(id, client)),
      );
      return finish(tx, id, prev, tombstone ? null : validate(id, next), actor, cause);
    });

  // Whether this kind's read of one entity issues all its statements at once (most reads are
  // one query). One that issues another after an answer (say, a second query for offline
  // states) cannot share a round trip with the write behind it; the first mutation that
  // shows it turns that off for the kind.
  let readIsOneTrip = true;

  /**
   * The owner's write sent with the reads around it: [BEGIN, lock, read prev, the statements
   * `apply` issues before its first await, read next] → [outbox row, COMMIT]. PostgreSQL runs
   * them in that order, so prev is read before the write as in turns, one round trip fewer.
   * Sound only if every statement of the prev read precedes the write: a read that issues one
   * later is noticed, the transaction rolled back and the mutation run in turns — which calls
   * `apply` a second time (its first run's writes were rolled back; see MutateOptions.apply).
   */
  const recordPipelined = async (id: string, actor: Actor, cause: Cause | null, apply: (tx: SqlClient) => Promise<unknown>, tombstone: boolean) => {
    const attempt = await withPipelinedTransaction(pool, "BEGIN", async (tx) => {
      const locking = lockOne(tx.client, id);
      let writeSent = false;
      let readAfterWrite = false;
      const prevClient: SqlClient = {
        query: ((...args: unknown[]) => {
          readAfterWrite ||= writeSent;
          return (tx.client.query as (...a: unknown[]) => unknown)(...args);
        }) as SqlClient["query"],
      };
      const reading = readOne(id, prevClient);
      writeSent = true;
      const writingThenReading = applyThenRead(
        tx.client,
        () => apply(withPreparedStatements(tx.client)),
        (client) => (tombstone ? Promise.resolve(null) : readOne(id, client)),
      );
      const [, prev, next] = await settledInOrder<[unknown, State | null, State | null]>([locking, reading, writingThenReading]);
      if (readAfterWrite) throw READ_AFTER_WRITE;
      return finish(tx, id, prev, tombstone ? null : validate(id, next), actor, cause);
    }).catch((error: unknown) => {
      if (error !== READ_AFTER_WRITE) throw error;
      readIsOneTrip = false;
      return null;
    });
    return attempt ?? recordInTurns(id, actor, cause, apply, tombstone);
  };

  const record = async (options: MutateOptions, tombstone: boolean): Promise<MutateResult<State>> => {
    const { id, actor, cause = null, apply } = options;
    const write = typeof apply === "function" ? apply : (tx: SqlClient) => tx.query(apply.text, apply.values);
    const result = readIsOneTrip ? await recordPipelined(id, actor, cause, write, tombstone) : await recordInTurns(id, actor, cause, write, tombstone);
    if (result.change) announce([result.change]);
    return result;
  };

  const recordMany = async (options: MutateManyOptions): Promise<Array<MutateResult<State> & { id: string }>> => {
    const { actor, cause = null, apply } = options;
    const actorOf = typeof actor === "function" ? actor : () => actor;
    const causeOf = typeof cause === "function" ? cause : () => cause;
    // Sorted, so two batches that overlap take their common locks in the same order.
    const ids = [...new Set(options.ids)].sort();
    if (ids.length === 0) return [];
    // A batch of one (every lone connect and close) takes its lock as `mutate` does: the
    // unnest and count of LOCK_MANY are work for nothing then.
    const lock = (tx: SqlClient) =>
      ids.length === 1
        ? lockOne(tx, ids[0]!)
        : tx.query({ name: "vantage_lock_entities", text: LOCK_MANY, values: [ids.map((id) => LockKey.entity(kind, id))] });
    const readMany = (client: SqlClient) => read(ids, withPreparedStatements(client));
    const applyThenReadNext = (tx: SqlClient) =>
      applyThenRead(
        tx,
        () => apply(withPreparedStatements(tx), ids),
        (client) => readMany(client),
      );
    /** The states from prev to next, and their changes recorded with the owner's beforeCommit and COMMIT (if we own the transaction) sent behind them. */
    const finish = async (tx: SqlClient, prevRead: EntityReadResult<State>, nextRead: EntityReadResult<State>, commit?: () => void) => {
      const prevs = toMap(prevRead);
      const nexts = toMap(nextRead);
      const states = ids.map((id) => ({ id, prev: prevs.get(id) ?? null, next: validate(id, nexts.get(id) ?? null) }));
      const pending = states.map(({ id, prev, next }) => pendingChange(id, prev, next)).filter((c) => c !== null);
      const recording = recordChanges(tx, pending, actorOf, causeOf);
      const alongside = options.beforeCommit?.(tx) ?? Promise.resolve();
      commit?.();
      const [recorded] = await settledInOrder<[Map<string, EntityChanged>, unknown]>([recording, alongside]);
      return states.map(({ id, prev, next }) => ({ id, prev, next, change: recorded.get(id) ?? null }));
    };
    // The lock and the read of prev are sent together (the read runs once the locks are
    // held, with a fresh snapshot); so are the outbox rows and COMMIT when we own the
    // transaction. A caller's client that is not pipelined gets them one after another.
    const inTransaction = async (tx: SqlClient, commit?: () => void, locked = false) => {
      let prevRead: EntityReadResult<State>;
      if (locked) prevRead = await readMany(tx);
      else if (isPipelined(tx)) [, prevRead] = await settledInOrder<[unknown, EntityReadResult<State>]>([lock(tx), readMany(tx)]);
      else prevRead = await lock(tx).then(() => readMany(tx));
      return finish(tx, prevRead, await applyThenReadNext(tx), commit);
    };
    /**
     * A repeatable apply does not wait for prev: [BEGIN, lock, read prev, apply's write, read
     * next] → [outbox rows, COMMIT], two round trips instead of three. PostgreSQL runs them in
     * that order, so prev is still read under the locks and before the write. Sound only if
     * every statement of the read of prev precedes apply's first: a read that issues one after
     * an answer (say, for states it found offline) is noticed, the transaction rolled back
     * (nothing of it was written) and this batch recorded in turns, apply running again.
     */
    const inTwoTrips = async (tx: PipelinedTransaction) => {
      let applying = false;
      let readAfterWrite = false;
      const prevClient = observedClient(tx.client, () => (readAfterWrite ||= applying));
      const locking = lock(tx.client);
      const reading = readMany(prevClient);
      applying = true;
      const [, prevRead, nextRead] = await settledInOrder<[unknown, EntityReadResult<State>, EntityReadResult<State>]>([
        locking,
        reading,
        applyThenReadNext(tx.client),
      ]);
      if (readAfterWrite) throw READ_AFTER_WRITE;
      return finish(tx.client, prevRead, nextRead, tx.commit);
    };
    // In the caller's transaction, the caller announces once it committed.
    if (options.tx) return inTransaction(options.tx, options.commit, options.locked);
    const inTurns = () => withPipelinedTransaction(pool, "BEGIN", (tx) => inTransaction(tx.client, tx.commit));
    // Per batch, not for the kind as `mutate` does: a repeatable apply is declared by an owner
    // whose read of prev is one trip as a rule (the satellites' asks ahead), and the rare batch
    // that is not only pays its rollback.
    const results = options.repeatableApply
      ? ((await withPipelinedTransaction(pool, "BEGIN", inTwoTrips).catch((error: unknown) => {
          if (error !== READ_AFTER_WRITE) throw error;
          return null;
        })) ?? (await inTurns()))
      : await inTurns();
    announce(results.flatMap((result) => (result.change ? [result.change] : [])));
    return results;
  };

  return {
    kind,
    get: async (id) => toMap(await read([id])).get(id) ?? null,
    getMany: async (ids) => toMap(await read(ids)),
    mutate: (options) => record(options, false),
    mutateMany: recordMany,
    announce: (changes) => announce(changes),
    remove: (options) => record(options, true),
    inStateSince: async (id, field) => {
      const { rows } = await pool.query<{ occurred_at: Date }>(LAST_TRANSITION, [kind, id, field]);
      return rows[0]?.occurred_at ?? null;
    },
    history: async (id, options: HistoryOptions = {}) => {
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1000);
      const { rows } = await pool.query<ChangeRow>(HISTORY, [kind, id, options.since ?? null, limit]);
      return rows.map(changeFromRow);
    },
  };
}
