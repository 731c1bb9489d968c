// One entity kind: reads current state through its owner, and records every change as
// one transaction holding the owner's write, the outbox row, the per-field history and
// the wake-up NOTIFY (delivered on commit).
import { randomUUID } from "node:crypto";
import type { EntityChanged, EntityState } from "@vantage/protocol";
import pg from "pg";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import { withTransaction } from "../storage/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "./change-row.ts";
import { canonicalize, diffStates } from "./diff.ts";
import type { ChangeNotifier } from "./change-notifier.ts";
import type { EntityDefinition, EntityHandle, EntityReadResult, HistoryOptions, MutateOptions, MutateResult, SqlClient } from "./types.ts";

/** Inserts the outbox row and one transition per changed field, in one round trip. */
const RECORD_CHANGE = `
  WITH change AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    RETURNING seq, kind, entity_id, prev, next, changed_fields, occurred_at
  ), transitions AS (
    INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
    SELECT change.seq, change.kind, change.entity_id, field.name, change.prev -> field.name, change.next -> field.name, change.occurred_at
    FROM change, unnest(change.changed_fields) AS field(name)
  )
  SELECT seq, occurred_at FROM change`;

const HISTORY = `
  SELECT ${CHANGE_COLUMNS} FROM entity_changes
  WHERE kind = $1 AND entity_id = $2 AND ($3::timestamptz IS NULL OR occurred_at >= $3)
  ORDER BY seq DESC LIMIT $4`;

const LAST_TRANSITION = `
  SELECT occurred_at FROM entity_transitions
  WHERE kind = $1 AND entity_id = $2 AND field = $3
  ORDER BY seq DESC LIMIT 1`;

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

function toMap<State>(result: EntityReadResult<State>): Map<string, State> {
  return result instanceof Map ? new Map(result) : new Map(Object.entries(result as Record<string, State>));
}

export function defineEntityHandle<Schema extends z.ZodObject>(
  pool: pg.Pool,
  notifier: ChangeNotifier,
  definition: EntityDefinition<Schema>,
): EntityHandle<z.infer<Schema>> {
  type State = z.infer<Schema>;
  const { kind, schema, read } = definition;

  const readOne = async (id: string, tx: SqlClient): Promise<State | null> => toMap(await read([id], tx)).get(id) ?? null;

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

  const record = async (options: MutateOptions, tombstone: boolean): Promise<MutateResult<State>> => {
    const { id, actor, cause = null, apply } = options;
    const lockKey = `${kind}:${id}`;
    const result = await withTransaction(
      pool,
      async (tx) => {
        const prev = await readOne(id, tx);
        await apply(tx);
        const next = tombstone ? null : validate(id, await readOne(id, tx));
        const { changedFields, delta } = diffStates(prev as EntityState | null, next as EntityState | null);
        const existenceChanged = (prev === null) !== (next === null);
        if (changedFields.length === 0 && !existenceChanged) return { prev, next, change: null };
        const change = {
          changeId: randomUUID(),
          kind,
          id,
          prev: prev === null ? null : (canonicalize(prev) as EntityState),
          next: next === null ? null : (canonicalize(next) as EntityState),
          delta,
          changedFields,
          actor,
          cause,
        };
        // Only what the database decides comes back; the rest is already in hand.
        const { rows } = await tx.query<{ seq: string; occurred_at: Date }>({
          name: "vantage_record_change",
          text: RECORD_CHANGE,
          values: [change.changeId, kind, id, json(change.prev), json(change.next), JSON.stringify(delta), changedFields, JSON.stringify(actor), json(cause)],
        });
        const recorded: EntityChanged = { seq: Number(rows[0]!.seq), ...change, occurredAt: rows[0]!.occurred_at.toISOString() };
        return { prev, next, change: recorded };
      },
      // Serialize on (kind, id) inside BEGIN's round trip: concurrent mutations of one
      // entity queue here, so each reads the state the previous one committed.
      { begin: `BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(lockKey)}, 0))` },
    );
    if (result.change) notifier.committed(result.change.seq!);
    return result;
  };

  return {
    kind,
    get: async (id) => toMap(await read([id])).get(id) ?? null,
    getMany: async (ids) => toMap(await read(ids)),
    mutate: (options) => record(options, false),
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
