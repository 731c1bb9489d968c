// The `check_schedule` table (migration `*-check-schedule.sql`): claiming the core location's due runs, exclusively
// across every core process, and how long until the next one falls due.
import type pg from "pg";

type Queryable = Pick<pg.Pool, "query">;

/** NOTIFY channel the schedule's triggers signal when a slot appears or moves earlier. */
export const CHECK_SCHEDULE_CHANNEL = "vantage_check_schedule";

// The schedule's clock: the database's, so every core reads one time and a core whose own clock
// runs ahead never claims early; tests pass their own instant as $1.
const NOW = "COALESCE($1::timestamptz, now())";

// One statement claims a batch: the earliest rows due by now (+ $4 ms, so a batch of slots
// close together costs one claim), skipping rows another core is claiming this instant, each
// moved to the first slot of its grid after this run's start (a late run skips missed slots
// rather than catching up) and never before the run's deadline (start + timeout), so two runs
// of a check never overlap, on any core. The due rows come from check_schedule_due; their
// checks and their rows again (for the update) are looked up by an array of their ids, which
// the planner serves from the primary keys — joined to the CTE instead, it would hash a scan
// of the whole table for a hundred rows.
export const CLAIM_DUE = `
  WITH due AS (
    SELECT check_id, next_run_at FROM check_schedule
    WHERE next_run_at <= ${NOW} + $4::float8 * interval '1 millisecond'
    ORDER BY next_run_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), run AS (
    SELECT due.check_id, due.next_run_at AS due_at, GREATEST(due.next_run_at, ${NOW}) AS starts_at,
           c.interval_seconds * interval '1 second' AS every, c.timeout_ms, c.type, c.revision, c.definition
    FROM checks c JOIN due ON due.check_id = c.id
    WHERE c.id = ANY (ARRAY(SELECT check_id FROM due))
  )
  UPDATE check_schedule s
  SET next_run_at = GREATEST(
        run.due_at + (floor(extract(epoch FROM run.starts_at - run.due_at) / extract(epoch FROM run.every)) + 1) * run.every,
        run.starts_at + run.timeout_ms * interval '1 millisecond'),
      claimed_at = run.starts_at,
      claimed_by = $3,
      run_deadline = run.starts_at + run.timeout_ms * interval '1 millisecond'
  FROM run
  WHERE s.check_id = ANY (ARRAY(SELECT check_id FROM due)) AND s.check_id = run.check_id
  RETURNING s.check_id, run.type, run.revision, run.definition, run.due_at, run.timeout_ms,
    (extract(epoch FROM GREATEST(${NOW} - run.due_at, interval '0')) * 1000)::float8 AS late_ms,
    (extract(epoch FROM run.starts_at - ${NOW}) * 1000)::float8 AS starts_in_ms`;

// min() over the partial index reads its first entry.
export const NEXT_DUE_IN = `SELECT (extract(epoch FROM min(next_run_at) - ${NOW}) * 1000)::float8 AS due_in_ms FROM check_schedule`;

/** A run this core claimed: its check as stored, and when it is to start. */
export interface ClaimedRun {
  checkId: string;
  type: string;
  revision: number;
  /** The stored definition (`checks.definition`): sealed fields are still sealed. */
  definition: unknown;
  dueAt: Date;
  /** The check's timeout: the run's deadline is its start plus this. */
  timeoutMs: number;
  /** How late the claim came after the slot (0 when claimed ahead of it). */
  lateMs: number;
  /** How long after the claim the run is to start (0 when it is due already). */
  startsInMs: number;
}

export interface ClaimOptions {
  /** Runs to claim at most. */
  limit: number;
  /** Recorded in `claimed_by`: the core instance's id. */
  claimedBy: string;
  /** Also claim slots due within this many milliseconds. */
  aheadMs: number;
  /** The schedule's clock (tests); unset, the database's. */
  at?: Date;
}

interface ClaimRow {
  check_id: string;
  type: string;
  revision: number;
  definition: unknown;
  due_at: Date;
  timeout_ms: number;
  late_ms: number;
  starts_in_ms: number;
}

/** Claims up to `limit` due runs for this core; no other core can claim them. */
export async function claimDueRuns(db: Queryable, options: ClaimOptions): Promise<ClaimedRun[]> {
  // Named: prepared once per connection, so each of the thousands of claims an hour skips the parse.
  const { rows } = await db.query<ClaimRow>({
    name: "vantage_claim_due_runs",
    text: CLAIM_DUE,
    values: [options.at ?? null, options.limit, options.claimedBy, options.aheadMs],
  });
  return rows.map((row) => ({
    checkId: row.check_id,
    type: row.type,
    revision: row.revision,
    definition: row.definition,
    dueAt: row.due_at,
    timeoutMs: row.timeout_ms,
    lateMs: row.late_ms,
    startsInMs: row.starts_in_ms,
  }));
}

/** Milliseconds until the earliest slot (≤ 0 when one is due), or null when nothing is scheduled. */
export async function nextDueIn(db: Queryable, at?: Date): Promise<number | null> {
  const { rows } = await db.query<{ due_in_ms: number | null }>({ name: "vantage_next_due_in", text: NEXT_DUE_IN, values: [at ?? null] });
  return rows[0]?.due_in_ms ?? null;
}
