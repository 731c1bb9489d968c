// Pages of one check's raw results, newest first, by keyset on (started_at, result_id): the
// "recent failures" view and a location's run history. Never an OFFSET, never a scan of a check.
import type pg from "pg";
import { VantageError } from "../../../errors.ts";
import { CHECK_RESULT_STATUSES, type CheckResultStatus } from "../check-result.ts";

export interface StoredResult {
  resultId: string;
  checkId: string;
  location: string;
  startedAt: string;
  durationMs: number;
  status: CheckResultStatus;
  statusCode: number | null;
  errorCode: string | null;
  detail: Record<string, unknown>;
}

export interface ListResultsOptions {
  location?: string;
  /** One status or several; all when absent. Only failures (no "up") use the failures index. */
  status?: CheckResultStatus | readonly CheckResultStatus[];
  /** The `next` of the previous page. */
  cursor?: string | null;
  limit: number;
}

export interface ResultPage {
  results: StoredResult[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

export const MAX_RESULT_PAGE = 500;

interface Row {
  result_id: string;
  check_id: string;
  location: string;
  started_at: Date;
  duration_ms: number;
  status: CheckResultStatus;
  status_code: number | null;
  error_code: string | null;
  detail: Record<string, unknown>;
}

const COLUMNS = "result_id, check_id, location, started_at, duration_ms, status, status_code, error_code, detail";
const NEWEST_FIRST = "ORDER BY started_at DESC, result_id DESC";

/** Opaque to clients: base64url of "<started_at ISO>|<result id>". */
export function encodeCursor(startedAt: Date, resultId: string): string {
  return Buffer.from(`${startedAt.toISOString()}|${resultId}`).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): { startedAt: string; resultId: string } {
  const [startedAt, resultId, extra] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (extra !== undefined || !startedAt || !resultId || !UUID.test(resultId) || !Number.isFinite(Date.parse(startedAt))) {
    throw new VantageError("invalid_input", "invalid_cursor", "The cursor is not one this API returned; pass the `next` of the previous page unchanged.");
  }
  return { startedAt, resultId };
}

/**
 * One page. Three shapes, each served by an index:
 * - only failures asked for: the partial index check_results_failures, across locations;
 * - one location: the primary key (check, location, started_at, result_id) backwards;
 * - every location: the primary key once per location (a LATERAL page each, merged), the
 *   locations found by skipping through the key (one probe per location, not a scan).
 * Partitions are read newest first (ordered by started_at), so a page stops early.
 */
export async function listResults(db: Pick<pg.ClientBase, "query">, checkId: string, options: ListResultsOptions): Promise<ResultPage> {
  const statuses = options.status === undefined ? null : typeof options.status === "string" ? [options.status] : [...options.status];
  if (statuses?.some((status) => !(CHECK_RESULT_STATUSES as readonly string[]).includes(status))) {
    throw new VantageError("invalid_input", "invalid_status", `status must be among ${CHECK_RESULT_STATUSES.join(", ")}.`);
  }
  const limit = Math.min(Math.max(1, Math.trunc(options.limit)), MAX_RESULT_PAGE);
  const params: unknown[] = [checkId, limit];
  const conditions: string[] = ["check_id = $1"];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (options.cursor) {
    const cursor = decodeCursor(options.cursor);
    conditions.push(`(started_at, result_id) < (${param(cursor.startedAt)}::timestamptz, ${param(cursor.resultId)}::uuid)`);
  }
  if (statuses) conditions.push(`status = ANY (${param(statuses)}::text[])`);
  const failuresOnly = statuses !== null && !statuses.includes("up");
  // Stated outright so the planner can match the partial index's predicate.
  if (failuresOnly) conditions.push("status <> 'up'");

  let sql: string;
  if (options.location !== undefined || failuresOnly) {
    if (options.location !== undefined) conditions.push(`location = ${param(options.location)}`);
    sql = `SELECT ${COLUMNS} FROM check_results WHERE ${conditions.join(" AND ")} ${NEWEST_FIRST} LIMIT $2`;
  } else {
    sql = `
      WITH RECURSIVE locations AS (
        SELECT min(location) AS location FROM check_results WHERE check_id = $1
        UNION ALL
        SELECT (SELECT min(location) FROM check_results WHERE check_id = $1 AND location > l.location)
        FROM locations l WHERE l.location IS NOT NULL
      )
      SELECT page.* FROM locations l CROSS JOIN LATERAL (
        SELECT ${COLUMNS} FROM check_results WHERE ${conditions.join(" AND ")} AND location = l.location ${NEWEST_FIRST} LIMIT $2
      ) page
      WHERE l.location IS NOT NULL
      ${NEWEST_FIRST} LIMIT $2`;
  }
  const { rows } = await db.query<Row>(sql, params);
  const results = rows.map((row): StoredResult => ({
    resultId: row.result_id,
    checkId: row.check_id,
    location: row.location,
    startedAt: row.started_at.toISOString(),
    durationMs: row.duration_ms,
    status: row.status,
    statusCode: row.status_code,
    errorCode: row.error_code,
    detail: row.detail,
  }));
  const last = rows.at(-1);
  return { results, next: rows.length === limit && last ? encodeCursor(last.started_at, last.result_id) : null };
}
