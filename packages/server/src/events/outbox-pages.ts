// Keyset reads of the entity_changes outbox in the router's order, (xid, seq), never past the
// oldest transaction still in flight: the one order in which "every change after this one" is
// well defined while changes commit out of seq order. The live stream, its catch-up and
// GET /api/v1/changes all read through here, so a position means the same thing in each.
import type pg from "pg";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow, type StoredChange, type SqlClient } from "../entities/index.ts";

/**
 * A position in the outbox: the (xid, seq) of a change, or before everything. A change's seq
 * alone (an SSE id) names it; its xid, looked up once, is what makes "after it" exact
 * (see docs/architecture.md, "Routing without gaps").
 */
export interface OutboxPosition {
  /** xid8 as decimal text (it exceeds 2^53 on old clusters). */
  xid: string;
  seq: number;
}

/** Before every change. */
export const OUTBOX_START: OutboxPosition = Object.freeze({ xid: "0", seq: 0 });

/** A change with its outbox position. */
export interface PositionedChange {
  change: StoredChange;
  position: OutboxPosition;
}

// `xid_order` keeps the xid8 for ordering (ORDER BY a text copy would sort as text).
const SETTLED = "xid < pg_snapshot_xmin(pg_current_snapshot())";

export const PAGE_ALL = `
  SELECT ${CHANGE_COLUMNS}, xid::text AS xid_text FROM entity_changes
  WHERE (xid, seq) > ($1::xid8, $2::bigint) AND ${SETTLED}
  ORDER BY entity_changes.xid, entity_changes.seq LIMIT $3`;

// One index range per kind (entity_changes_by_kind), merged: a rare kind costs its own rows,
// not a walk over every other kind's.
export const PAGE_OF_KINDS = `
  SELECT page.* FROM unnest($4::text[]) AS wanted(kind) CROSS JOIN LATERAL (
    SELECT ${CHANGE_COLUMNS}, xid::text AS xid_text, xid AS xid_order FROM entity_changes
    WHERE entity_changes.kind = wanted.kind AND (xid, seq) > ($1::xid8, $2::bigint) AND ${SETTLED}
    ORDER BY entity_changes.xid, entity_changes.seq LIMIT $3
  ) AS page
  ORDER BY page.xid_order, page.seq LIMIT $3`;

export const POSITION_OF_SEQ = "SELECT xid::text AS xid FROM entity_changes WHERE seq = $1";

/** The newest settled change: where a stream that wants nothing old starts. */
export const HEAD = `
  SELECT xid::text AS xid, seq FROM entity_changes WHERE ${SETTLED}
  ORDER BY entity_changes.xid DESC, entity_changes.seq DESC LIMIT 1`;

/** The first change stamped at or after an instant (entity_changes_by_time). */
export const FIRST_AT_OR_AFTER = `
  SELECT xid::text AS xid, seq FROM entity_changes WHERE occurred_at >= $1
  ORDER BY occurred_at, seq LIMIT 1`;

type PageRow = ChangeRow & { xid_text: string };

/** The next page after `after`, at most `limit` changes, only of `kinds` when given. */
export async function readOutboxPage(db: SqlClient, after: OutboxPosition, limit: number, kinds?: readonly string[] | null): Promise<PositionedChange[]> {
  const { rows } = kinds
    ? await db.query<PageRow>({ name: "vantage_outbox_page_kinds", text: PAGE_OF_KINDS, values: [after.xid, after.seq, limit, kinds] })
    : await db.query<PageRow>({ name: "vantage_outbox_page", text: PAGE_ALL, values: [after.xid, after.seq, limit] });
  return rows.map((row) => ({ change: changeFromRow(row), position: { xid: row.xid_text, seq: Number(row.seq) } }));
}

/** The position of the change with this seq, or null when the outbox does not hold it (pruned, never committed, or another database's). */
export async function positionOfSeq(db: SqlClient, seq: number): Promise<OutboxPosition | null> {
  if (seq === 0) return OUTBOX_START;
  const { rows } = await db.query<{ xid: string }>({ name: "vantage_outbox_position", text: POSITION_OF_SEQ, values: [seq] });
  return rows[0] ? { xid: rows[0].xid, seq } : null;
}

/** The newest settled change's position (OUTBOX_START when there is none). */
export async function outboxHead(db: pg.Pool | SqlClient): Promise<OutboxPosition> {
  const { rows } = await db.query<{ xid: string; seq: string }>({ name: "vantage_outbox_head", text: HEAD });
  return rows[0] ? { xid: rows[0].xid, seq: Number(rows[0].seq) } : OUTBOX_START;
}

/** Just before the first change stamped at or after `instant`; null when none is. */
export async function positionBefore(db: SqlClient, instant: Date): Promise<OutboxPosition | null> {
  const { rows } = await db.query<{ xid: string; seq: string }>({ name: "vantage_outbox_at", text: FIRST_AT_OR_AFTER, values: [instant] });
  // (xid, seq - 1) sorts right before the change itself and after everything of older transactions.
  return rows[0] ? { xid: rows[0].xid, seq: Number(rows[0].seq) - 1 } : null;
}

/** Whether `a` comes after `b` in outbox order. */
export function isAfter(a: OutboxPosition, b: OutboxPosition): boolean {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  return ax === bx ? a.seq > b.seq : ax > bx;
}
