// Stores a batch of check results in ONE statement: the rows (a resend is skipped by the
// primary key, or refused when the batch was said to hold none) and, in the same statement, a
// marker of each for the rollup worker.
import type pg from "pg";
import { isVantageError, VantageError } from "../../../errors.ts";
import type { CheckResultInput, ResultRetention } from "../check-result.ts";
import { isUniqueViolation, numberArrayLiteral, textArrayLiteral } from "../../../storage/index.ts";
import { DAY_MS, keptFrom, type PartitionCatalog, RESULT_TABLES } from "../partitions.ts";

// Rows go in key order (sorted by the caller): two batches that both carry one resent result
// wait on each other in the same order, never in a cycle. For each row actually inserted, the
// same statement appends a rollup marker with its minute, status and duration (migration 0034;
// no key, see migration 0015): a resend inserts no row and so adds nothing, and the rollup
// worker counts the markers into the rollups without reading raw rows. The
// details travel as one JSON array, matched to the other columns by position: one
// JSON.stringify of the batch instead of one per result, each escaped again into an array literal.
// Start times travel as epoch milliseconds (no ISO string to format here nor to parse there).
// The answer is one row: how many rows were inserted, and which only when that is not all of
// them (a resend) — the usual batch then returns no row per result to parse and match.
const insertResults = (onConflict: string) => `
  WITH inserted AS (
    INSERT INTO check_results (check_id, location, started_at, result_id, status, duration_ms, status_code, error_code, detail)
    SELECT r.check_id, r.location, to_timestamp(r.started_ms / 1000), r.result_id, r.status, r.duration_ms, r.status_code, r.error_code, d.detail
    FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::uuid[], $5::text[], $6::integer[], $7::smallint[], $8::text[]) WITH ORDINALITY
           AS r(check_id, location, started_ms, result_id, status, duration_ms, status_code, error_code, n)
    JOIN jsonb_array_elements($9::jsonb) WITH ORDINALITY AS d(detail, n) USING (n)
    ORDER BY n
    ${onConflict}
    RETURNING check_id, location, started_at, result_id, status, duration_ms
  ), dirty AS (
    INSERT INTO check_rollup_dirty (check_id, location, minute, status, duration_ms)
    SELECT check_id, location, date_trunc('minute', started_at, 'UTC'), status, duration_ms FROM inserted
  )
  SELECT count(*)::integer AS inserted, CASE WHEN count(*) < cardinality($4::uuid[]) THEN array_agg(result_id) END AS inserted_ids FROM inserted`;

// Two statements, each prepared once per connection (named), so a batch skips parsing and
// planning its CTE. ON CONFLICT DO NOTHING costs PostgreSQL a second descent of the primary key
// and one more WAL record per row (its speculative insert; ~3–6 µs of the ~21 µs a row costs,
// docs/benchmarks/2026-12-03-ingest-database-work.md), for the rare batch that holds a resend.
// A batch said to hold none is inserted plainly: should it hold one after all, the whole
// statement fails with a unique violation, nothing of it is stored, and the caller redoes the
// batch (its whole transaction) with ON CONFLICT.
const INSERT_SKIPPING_RESENDS = { name: "vantage_insert_check_results", text: insertResults("ON CONFLICT DO NOTHING") };
const INSERT_PLAIN = { name: "vantage_insert_check_results_plain", text: insertResults("") };

export type DropReason =
  /** Its day is past the raw retention: its partition is gone or about to be. */
  | "expired"
  /** It starts further in the future than partitions are made ahead: a satellite's clock is wrong. */
  | "future";

export interface IngestOutcome {
  /** Result ids newly stored. */
  stored: string[];
  /** Result ids already stored (a resend), or repeated within the batch. */
  duplicates: string[];
  /** Results not stored, and why; acknowledge them anyway: resending cannot help. */
  dropped: Array<{ resultId: string; reason: DropReason }>;
}

export interface IngestContext {
  partitions: PartitionCatalog;
  retention: ResultRetention;
  /** The clock, in epoch milliseconds. */
  now: () => number;
  /** Results starting more than this many days ahead are dropped (default PARTITIONS_AHEAD_DAYS). */
  aheadDays?: number;
}

/** Days of partitions made ahead of today; also how far in the future a result may start. */
export const PARTITIONS_AHEAD_DAYS = 3;

type Queryable = Pick<pg.ClientBase, "query">;

export interface IngestOptions {
  /** The results' start times as startedAtOf() parsed them already (the batcher does on submit), by position. */
  startedAts?: readonly number[];
  /**
   * Whether the batch may hold a result already stored (a resend). Yes by default: ON CONFLICT
   * skips it. No: a plain INSERT, cheaper per row. Should one be stored after all, nothing of
   * the batch is, and the error thrown answers isUnmarkedResend(); the caller then redoes the
   * batch with yes — inside a transaction, the whole transaction, which the failure aborted.
   */
  mayHoldResends?: boolean;
}

/**
 * Whether ingestResults failed because a batch said to hold no resend held one (a result
 * already stored): redo it with `mayHoldResends` — nothing of it was stored.
 */
export function isUnmarkedResend(error: unknown): boolean {
  return isVantageError(error, "conflict") && error.code === "check_result_resent";
}

interface Row {
  result: CheckResultInput;
  startedAt: number;
}

const byKey = (a: Row, b: Row) =>
  compare(a.result.checkId, b.result.checkId) ||
  compare(a.result.location, b.result.location) ||
  a.startedAt - b.startedAt ||
  compare(a.result.resultId, b.result.resultId);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The start time in epoch ms, or an error naming the result. */
export function startedAtOf(result: CheckResultInput): number {
  const at = Date.parse(result.startedAt);
  if (!Number.isFinite(at) || !(result.durationMs >= 0)) {
    throw new VantageError(
      "invalid_input",
      "invalid_check_result",
      `Result ${result.resultId} has an invalid startedAt (${result.startedAt}) or durationMs (${result.durationMs}).`,
    );
  }
  return at;
}

/**
 * Stores `results` with one INSERT (usable inside the caller's transaction: health is evaluated
 * in the same one). Partitions missing for their days are created first, in a transaction of
 * their own. Results repeated within the batch (same resultId) count as duplicates after the
 * first (they never reach the statement, so they are no reason for a plain insert to fail).
 * Throws on a database error: nothing of the batch is then stored.
 */
export async function ingestResults(
  client: Queryable,
  results: readonly CheckResultInput[],
  context: IngestContext,
  { startedAts, mayHoldResends = true }: IngestOptions = {},
): Promise<IngestOutcome> {
  const now = context.now();
  const latest = now + (context.aheadDays ?? PARTITIONS_AHEAD_DAYS) * DAY_MS;
  const earliest = keptFrom(RESULT_TABLES.raw, context.retention, now);
  const outcome: IngestOutcome = { stored: [], duplicates: [], dropped: [] };
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!;
    const startedAt = startedAts?.[i] ?? startedAtOf(result);
    // PostgreSQL returns uuids lower-cased; compare them so.
    const id = result.resultId.toLowerCase();
    if (seen.has(id)) {
      outcome.duplicates.push(result.resultId);
      continue;
    }
    seen.add(id);
    if (startedAt > latest) outcome.dropped.push({ resultId: result.resultId, reason: "future" });
    else if (startedAt < earliest) outcome.dropped.push({ resultId: result.resultId, reason: "expired" });
    else rows.push({ result, startedAt });
  }
  if (rows.length === 0) return outcome;
  rows.sort(byKey);
  await context.partitions.ensure(
    "raw",
    rows.map((row) => row.startedAt),
  );

  const column = <T>(of: (row: Row) => T) => rows.map(of);
  const inserting = client.query<{ inserted: number; inserted_ids: string[] | null }>({
    ...(mayHoldResends ? INSERT_SKIPPING_RESENDS : INSERT_PLAIN),
    values: [
      textArrayLiteral(column((row) => row.result.checkId)),
      textArrayLiteral(column((row) => row.result.location)),
      numberArrayLiteral(column((row) => row.startedAt)),
      textArrayLiteral(column((row) => row.result.resultId)),
      textArrayLiteral(column((row) => row.result.status)),
      numberArrayLiteral(column((row) => Math.round(row.result.durationMs))),
      numberArrayLiteral(column((row) => row.result.statusCode)),
      textArrayLiteral(column((row) => row.result.errorCode)),
      JSON.stringify(column((row) => row.result.detail)),
    ],
  });
  const {
    rows: [answer],
  } = mayHoldResends ? await inserting : await inserting.catch(unmarkedResend);
  if (answer!.inserted === rows.length) {
    for (const { result } of rows) outcome.stored.push(result.resultId);
    return outcome;
  }
  const stored = new Set(answer!.inserted_ids ?? []);
  for (const { result } of rows) (stored.has(result.resultId.toLowerCase()) ? outcome.stored : outcome.duplicates).push(result.resultId);
  return outcome;
}

function unmarkedResend(error: unknown): never {
  if (!isUniqueViolation(error)) throw error;
  throw new VantageError(
    "conflict",
    "check_result_resent",
    "A batch of check results said to hold no resend holds a result already stored; nothing of it was stored: store it again, skipping resends.",
    { cause: error },
  );
}
