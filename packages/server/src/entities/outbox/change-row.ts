// Reads outbox rows back into EntityChanged events: one SELECT list and one mapper,
// shared by history, the router and the live feed.
import type { Actor, Cause, EntityChanged, EntityState } from "@vantage/protocol";

export const CHANGE_COLUMNS = "seq, change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause, occurred_at";

/**
 * Whether committed rows wait past the cursor `($1 xid, $2 seq)` that a settled read may not
 * take yet (an older writer is still open): the first row past the cursor in the order of
 * entity_changes_by_xid. Not `EXISTS (…)`: under a generic plan (the change stream's prepared
 * statement) the planner expects a third of the table past the cursor and scans it from its
 * start — 22 ms at 100,000 rows, against 0.07 ms for this form (EXPLAIN ANALYZE EXECUTE with
 * plan_cache_mode = force_generic_plan; PostgreSQL drops an EXISTS subquery's ORDER BY).
 */
export const OUTBOX_HELD_BACK_EXPRESSION = `(SELECT seq FROM entity_changes WHERE (xid, seq) > ($1::xid8, $2::bigint) ORDER BY xid, seq LIMIT 1) IS NOT NULL`;

/** OUTBOX_HELD_BACK_EXPRESSION as a statement of its own (one row, `held`). */
export const OUTBOX_HELD_BACK = `
  SELECT ${OUTBOX_HELD_BACK_EXPRESSION} AS held`;

export interface ChangeRow {
  seq: string;
  change_id: string;
  kind: string;
  entity_id: string;
  prev: EntityState | null;
  next: EntityState | null;
  delta: EntityState;
  changed_fields: string[];
  actor: Actor;
  cause: Cause | null;
  occurred_at: Date;
}

export type StoredChange = EntityChanged & { seq: number; changeId: string };

export function changeFromRow(row: ChangeRow): StoredChange {
  return {
    seq: Number(row.seq),
    changeId: row.change_id,
    kind: row.kind,
    id: row.entity_id,
    prev: row.prev,
    next: row.next,
    delta: row.delta,
    changedFields: row.changed_fields,
    actor: row.actor,
    cause: row.cause,
    occurredAt: row.occurred_at.toISOString(),
  };
}
