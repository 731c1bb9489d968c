// Reads of recorded changes for "why did this happen": one entity's history newest first, the
// changes a cause (an automation run, an API request) made, and every change with what it in
// turn caused (automation runs and skips). Keyset pages; each query has its index.
import { type Cause, CAUSE_TYPES } from "@vantage/protocol";
import { type CausingRun, type ChangeConsequences, consequencesOfChanges, runsOfCauses } from "../automations/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow, type SqlClient, type StoredChange } from "../entities/index.ts";
import { type OutboxPosition, readOutboxPage } from "./outbox-pages.ts";

/** One entity's changes, newest first, before a seq (entity_changes_by_entity; one entity's seqs are in commit order). */
export const CHANGES_OF_ENTITY = `
  SELECT ${CHANGE_COLUMNS} FROM entity_changes
  WHERE kind = $1 AND entity_id = $2 AND ($3::bigint IS NULL OR seq < $3)
  ORDER BY seq DESC LIMIT $4`;

/** The changes recorded with one cause, newest first (entity_changes_by_cause). */
export const CHANGES_OF_CAUSE = `
  SELECT ${CHANGE_COLUMNS} FROM entity_changes
  WHERE cause IS NOT NULL AND cause ->> 'type' = $1 AND cause ->> 'id' = $2 AND ($3::bigint IS NULL OR seq < $3)
  ORDER BY seq DESC LIMIT $4`;

/**
 * The newest changes of some kinds (all when $1 is null), before a seq: a backward walk of the
 * primary key. No kind index: the feed asks for the kinds most changes are, so the walk stops
 * after about a page of rows.
 */
export const LATEST_CHANGES = `
  SELECT ${CHANGE_COLUMNS} FROM entity_changes
  WHERE ($1::text[] IS NULL OR kind = ANY ($1)) AND ($2::bigint IS NULL OR seq < $2)
  ORDER BY seq DESC LIMIT $3`;

/** A change as the history API answers it: the event, what it caused, and the run that caused it (if one did). */
export type HistoryChange = StoredChange & { caused: ChangeConsequences; causedByRun: CausingRun | null };

/** The changes with the automation runs and skips each caused, and the run behind each (three more queries per page). */
async function withConsequences(db: SqlClient, changes: StoredChange[]): Promise<HistoryChange[]> {
  const [consequences, runs] = await Promise.all([
    consequencesOfChanges(
      db,
      changes.map((change) => change.changeId),
    ),
    runsOfCauses(
      db,
      changes.map((change) => change.cause),
    ),
  ]);
  return changes.map((change) => ({
    ...change,
    caused: consequences.get(change.changeId)!,
    causedByRun: change.cause?.type === CAUSE_TYPES.automationRun ? (runs.get(change.cause.id) ?? null) : null,
  }));
}

export async function entityChanges(db: SqlClient, kind: string, id: string, page: { before?: number; limit: number }): Promise<HistoryChange[]> {
  const { rows } = await db.query<ChangeRow>({ name: "vantage_entity_history", text: CHANGES_OF_ENTITY, values: [kind, id, page.before ?? null, page.limit] });
  return withConsequences(db, rows.map(changeFromRow));
}

export async function changesOfCause(db: SqlClient, cause: Cause, page: { before?: number; limit: number }): Promise<HistoryChange[]> {
  const { rows } = await db.query<ChangeRow>({
    name: "vantage_cause_history",
    text: CHANGES_OF_CAUSE,
    values: [cause.type, cause.id, page.before ?? null, page.limit],
  });
  return withConsequences(db, rows.map(changeFromRow));
}

export async function latestChanges(db: SqlClient, page: { kinds: readonly string[] | null; before?: number; limit: number }): Promise<HistoryChange[]> {
  const { rows } = await db.query<ChangeRow>({ name: "vantage_latest_changes", text: LATEST_CHANGES, values: [page.kinds, page.before ?? null, page.limit] });
  return withConsequences(db, rows.map(changeFromRow));
}

/** Changes after a position in outbox order (the order the live stream delivers), of some kinds. */
export async function changesAfter(db: SqlClient, after: OutboxPosition, page: { kinds: readonly string[] | null; limit: number }): Promise<HistoryChange[]> {
  const changes = await readOutboxPage(db, after, page.limit, page.kinds);
  return withConsequences(
    db,
    changes.map((positioned) => positioned.change),
  );
}
