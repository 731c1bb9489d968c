// Reads of the checks table (owned by checks/definitions, migration 0014) for the assignment
// index: the enabled checks that run on satellites, all of them once, then a few by id as
// their change notices arrive. Both read the partial index `checks_on_satellites`.
import type pg from "pg";

/** A stored check as the index reads it; `definition` is as stored (credential headers sealed). */
export interface StoredCheckRow {
  id: string;
  revision: number;
  definition: unknown;
}

const SELECT_ALL = "SELECT id, revision, definition FROM checks WHERE enabled AND run_on_satellites IS NOT NULL";
// A listed check not returned is disabled, deleted or no longer on satellites: it leaves the index.
const SELECT_BY_ID = "SELECT id, revision, definition FROM checks WHERE id = ANY($1::uuid[]) AND enabled AND run_on_satellites IS NOT NULL";

type Queryable = Pick<pg.Pool, "query">;

export async function readSatelliteChecks(db: Queryable): Promise<StoredCheckRow[]> {
  return (await db.query<StoredCheckRow>(SELECT_ALL)).rows;
}

export async function readSatelliteChecksById(db: Queryable, ids: readonly string[]): Promise<StoredCheckRow[]> {
  return (await db.query<StoredCheckRow>(SELECT_BY_ID, [ids])).rows;
}
