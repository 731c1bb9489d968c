// The one lock every writer of a check's health takes first: the check's row, in id order, so
// two evaluations of one check never interleave and overlapping batches never deadlock.
import type { SqlClient } from "../../entities/index.ts";

/**
 * SQL locking the checks `ids` (a uuid[] expression) names. A row lock, not an advisory lock per
 * check: a mass outage's batches of a thousand checks on several cores would fill the shared
 * lock table (max_locks_per_transaction). FOR NO KEY UPDATE leaves the inserts that reference
 * the row (FOR KEY SHARE through their foreign key: results, the health row) unblocked.
 */
const lockChecksSql = (ids: string): string =>
  `SELECT count(*) AS locked FROM (SELECT 1 FROM checks WHERE id = ANY (${ids}) ORDER BY id FOR NO KEY UPDATE) AS c`;

/** Takes the checks' rows, in the caller's transaction (until it ends). */
export async function lockChecks(db: SqlClient, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.query({ name: "vantage_check_health_lock", text: lockChecksSql("$1::uuid[]"), values: [[...ids].sort()] });
}
