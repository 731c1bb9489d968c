// Reads outbox rows back into EntityChanged events: one SELECT list and one mapper,
// shared by history, the router and the live feed.
import type { Actor, Cause, EntityChanged, EntityState } from "@vantage/protocol";

export const CHANGE_COLUMNS = "seq, change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause, occurred_at";

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
