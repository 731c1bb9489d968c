// The run records of many runs written by one statement each: claims, step starts, attempt
// counts, step outcomes and ends, for run sessions that send the writes of the runs in flight
// together (execution/run-session.ts). Each statement does for every row what its one-run
// form in run-records.ts and run-admission.ts does for one; rows are matched back by run id.
//
// Why: a mass outage runs thousands of one-webhook runs; one statement per run per record
// cost the core more CPU (pg's per-statement work, a socket write per round trip) than the
// runs themselves (bench/mass-outage).
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import type { SqlStatement } from "../../entities/index.ts";
import { HashedLockPrefix, hashedLockKey, hashedPrefixedLockKey, LockKey } from "../../storage/index.ts";
import { type ClaimedRun, type ClaimedRow, claimedRunOf, type RunEnd, type StepRecord, type StepResult, type StepStatus } from "./run-records.ts";
import { endLocksScopeSql } from "./run-scopes.ts";
import { statusOfRunFoundById } from "./run-status-sql.ts";

export interface ClaimRequest {
  runId: string;
  /** Take the run's session lock only if it is free (a shared connection); false: the caller holds it already. */
  tryLock: boolean;
}

/** What a claim found: whether the lock was taken, and the run if it could be claimed. */
export interface ClaimOutcome {
  held: boolean;
  run: ClaimedRun | null;
}

// Locks taken in the order asked (a materialized CTE is evaluated once), claims only where
// the lock was taken; the run's definition as it was decided (see claimRunStatement).
const CLAIM_RUNS = `
  WITH asked AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[]) WITH ORDINALITY AS q(id, lock_key, try_lock, ord)),
  lock AS MATERIALIZED (
    SELECT id, CASE WHEN try_lock THEN pg_try_advisory_lock(${hashedLockKey("lock_key")}) ELSE true END AS held FROM asked ORDER BY ord),
  claimed AS (
    UPDATE automation_runs r SET status = 'running', started_at = coalesce(r.started_at, clock_timestamp())
    FROM lock WHERE r.id = lock.id AND lock.held AND ${statusOfRunFoundById("r.status", ["pending", "running"])}
    RETURNING r.id, r.automation_id, r.automation_version, r.trigger)
  SELECT lock.id AS run_id, lock.held, c.id, c.automation_id, a.name, c.automation_version AS version,
    coalesce(v.definition, a.definition) AS definition, c.trigger
  FROM lock LEFT JOIN (claimed c JOIN automations a ON a.id = c.automation_id
    LEFT JOIN automation_versions v ON v.automation_id = c.automation_id AND v.version = c.automation_version) ON c.id = lock.id`;

export const claimRunsStatement = (requests: readonly ClaimRequest[]): SqlStatement => ({
  text: CLAIM_RUNS,
  values: [requests.map((r) => r.runId), requests.map((r) => LockKey.run(r.runId)), requests.map((r) => r.tryLock)],
});

/** A claim's row: whether its lock was held, and the claimed run's columns (id null when none was claimed). */
type ClaimRow = { run_id: string; held: boolean } & (ClaimedRow | { id: null });

export function claimOutcomes({ rows }: pg.QueryResult): Map<string, ClaimOutcome> {
  return new Map(
    (rows as ClaimRow[]).map((row) => [
      row.run_id,
      {
        held: row.held,
        run: row.id ? claimedRunOf(row) : null,
      },
    ]),
  );
}

/** A run handed over already claimed (automation-runs.ts, HandedRun), to open without a claim. */
export interface OpenRequest {
  runId: string;
  /** The row version the router inserted: the run is as handed while its xmin is this. */
  xmin: string;
  /** Read the automation's name and definition (the executor has not compiled this version, or the name is unknown). */
  needDefinition: boolean;
}

/**
 * The session setting naming the runs the last tryLockRunsStatement on the connection locked
 * (comma-separated ids). Session-level: the statement runs outside any transaction. Only a start
 * sent behind that statement, in the same round trip, reads it; a run is opened once, so a value
 * left from an earlier round trip never names the run of a later start.
 */
const OPENED_RUNS = "vantage.opened_runs";

// A handed run's opening, two statements outside any transaction (reads, and a session lock that
// outlives none): the lock tried first, then — a statement later, so its snapshot sees every
// commit before the lock was granted — whether the run is still the row the router inserted.
// Why the row version and not the status: a second execution (this pool's lease expired, the
// sweeper unlocked the job, another core fetched it) claims the run under the lock and commits
// that claim before anything else, so once we hold the lock its claim is visible as a newer row
// version; its end gives the lock up before its COMMIT, and a read of the status alone could
// still see 'running' then. A run cancelled since (even in the router's own transaction, by a
// restart in the same batch) is not 'running'. Either way the run takes the claim's path.
//
// The runs whose lock it took are also left in the session setting OPENED_RUNS, for a first step's
// start sent in the same round trip (startStepsStatement, `openedXmin`): a later statement, which
// starts the step only if its run is one of them and still the row the router inserted.
export const tryLockRunsStatement = (runIds: readonly string[]): SqlStatement => ({
  text: `WITH tried AS MATERIALIZED (
      SELECT run_id, pg_try_advisory_lock(${hashedLockKey("lock_key")}) AS held FROM unnest($1::uuid[], $2::text[]) AS q(run_id, lock_key))
    SELECT run_id::text, held, set_config('${OPENED_RUNS}', (SELECT coalesce(string_agg(run_id::text, ','), '') FROM tried WHERE held), false) AS opened FROM tried`,
  values: [runIds, runIds.map((id) => LockKey.run(id))],
});

// The definition as the claim reads it (the version the run was decided on), only where asked.
const OPEN_HANDED_RUNS = `
  SELECT q.id::text AS run_id, d.name, d.definition
  FROM unnest($1::uuid[], $2::text[], $3::boolean[]) AS q(id, row_xmin, need)
  JOIN automation_runs r ON r.id = q.id AND r.xmin = q.row_xmin::xid AND ${statusOfRunFoundById("r.status", ["running"])}
  LEFT JOIN LATERAL (
    SELECT a.name, coalesce(v.definition, a.definition) AS definition FROM automations a
    LEFT JOIN automation_versions v ON v.automation_id = a.id AND v.version = r.automation_version
    WHERE q.need AND a.id = r.automation_id) AS d ON true`;

export const openHandedRunsStatement = (requests: readonly OpenRequest[]): SqlStatement => ({
  text: OPEN_HANDED_RUNS,
  values: [requests.map((r) => r.runId), requests.map((r) => r.xmin), requests.map((r) => r.needDefinition)],
});

/** Per run: whether its lock was taken. */
export const heldLocks = ({ rows }: pg.QueryResult): Map<string, boolean> =>
  new Map((rows as { run_id: string; held: boolean }[]).map((row) => [row.run_id, row.held]));

/** The handed runs still as inserted, with the name and definition where asked (null otherwise). */
export const openedHandedRuns = ({ rows }: pg.QueryResult): Map<string, { name: string | null; definition: unknown }> =>
  new Map((rows as { run_id: string; name: string | null; definition: unknown }[]).map((row) => [row.run_id, { name: row.name, definition: row.definition }]));

export const loadStepsOfRunsStatement = (runIds: readonly string[]): SqlStatement => ({
  text: "SELECT run_id, step_path, status, due_at <= clock_timestamp() AS due, output, error FROM automation_run_steps WHERE run_id = ANY($1::uuid[])",
  values: [runIds],
});

type StepRow = { run_id: string; step_path: string; status: StepStatus; due: boolean | null; output: JsonValue | null; error: string | null };

/** The step records by run id (a run without any has none). */
export function stepRecordsByRun({ rows }: pg.QueryResult): Map<string, Map<string, StepRecord>> {
  const byRun = new Map<string, Map<string, StepRecord>>();
  for (const row of rows as StepRow[]) {
    let steps = byRun.get(row.run_id);
    if (!steps) byRun.set(row.run_id, (steps = new Map()));
    steps.set(row.step_path, { path: row.step_path, status: row.status, due: row.due === true, output: row.output, error: row.error });
  }
  return byRun;
}

export interface StepStart {
  runId: string;
  path: string;
  kind: string;
  input: JsonValue;
  output: JsonValue | null;
  /**
   * Counts the step's first attempt with its start (its execute counts it right away, and
   * this saves that round trip); only if the step started, as countAttemptsStatement would.
   */
  countAttempt?: boolean;
  /**
   * A handed run's first step, sent in the round trip that opens the run (tryLockRunsStatement
   * ahead of it): the run row's xmin as handed. Started only if that opening took the run's lock
   * and the run is still that row version, running.
   */
  openedXmin?: string;
}

// As startStepStatement, per row: only while the run is running; a re-executed step keeps its
// attempts, plus the one counted with the start ($6: 1 or 0). A handed run's first start sent with
// its opening ($7: the row's xmin as handed, else null) also only if the opening took the run's
// lock (OPENED_RUNS) and the run is still the row the router inserted — the opening's own checks
// (openHandedRunsStatement), in a statement behind the lock's, so it sees every commit made before
// the lock was granted.
const START_STEPS = `
  INSERT INTO automation_run_steps (run_id, step_path, kind, status, input, output, attempts)
  SELECT s.run_id, s.step_path, s.kind, 'running', s.input, s.output, s.attempts
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::integer[], $7::text[])
    AS s(run_id, step_path, kind, input, output, attempts, opened_xmin)
  WHERE EXISTS (SELECT 1 FROM automation_runs r WHERE r.id = s.run_id AND ${statusOfRunFoundById("r.status", ["running"])}
    AND (s.opened_xmin IS NULL OR (r.xmin = s.opened_xmin::xid
      AND s.run_id::text = ANY(string_to_array(current_setting('${OPENED_RUNS}', true), ',')))))
  ON CONFLICT (run_id, step_path) DO UPDATE SET status = 'running', input = EXCLUDED.input, output = EXCLUDED.output, error = NULL, finished_at = NULL,
    attempts = automation_run_steps.attempts + EXCLUDED.attempts
  RETURNING run_id, step_path`;

export const startStepsStatement = (starts: readonly StepStart[]): SqlStatement => ({
  text: START_STEPS,
  values: [
    starts.map((s) => s.runId),
    starts.map((s) => s.path),
    starts.map((s) => s.kind),
    starts.map((s) => JSON.stringify(s.input)),
    starts.map((s) => (s.output === null ? null : JSON.stringify(s.output))),
    starts.map((s) => (s.countAttempt ? 1 : 0)),
    starts.map((s) => s.openedXmin ?? null),
  ],
});

/** `run id + step path` of each row a batched step statement returned. */
export const stepKeys = ({ rows }: pg.QueryResult): Set<string> =>
  new Set((rows as { run_id: string; step_path: string }[]).map((row) => stepKey(row.run_id, row.step_path)));
export const stepKey = (runId: string, path: string): string => `${runId} ${path}`;

export interface StepRef {
  runId: string;
  path: string;
}

export const countAttemptsStatement = (steps: readonly StepRef[]): SqlStatement => ({
  text: `UPDATE automation_run_steps s SET attempts = s.attempts + 1
    FROM unnest($1::uuid[], $2::text[]) AS a(run_id, step_path) WHERE s.run_id = a.run_id AND s.step_path = a.step_path`,
  values: [steps.map((s) => s.runId), steps.map((s) => s.path)],
});

export interface StepOutcome extends StepRef {
  result: StepResult;
}

// As finishStepStatement, per row: recorded even if the run was cancelled meanwhile, since it happened.
export const finishStepsStatement = (outcomes: readonly StepOutcome[]): SqlStatement => ({
  text: `UPDATE automation_run_steps s SET status = o.status, output = o.output, error = o.error, finished_at = clock_timestamp()
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[]) AS o(run_id, step_path, status, output, error)
    WHERE s.run_id = o.run_id AND s.step_path = o.step_path`,
  values: [
    outcomes.map((o) => o.runId),
    outcomes.map((o) => o.path),
    outcomes.map((o) => o.result.status),
    outcomes.map((o) => (o.result.output === undefined ? null : JSON.stringify(o.result.output))),
    outcomes.map((o) => o.result.error ?? null),
  ],
});

export interface RunEnding {
  runId: string;
  result: RunEnd;
}

// As lockScopeOfRun for each run (the same condition: run-scopes.ts), in one order of keys for
// every batch, so two batches ending runs of the same scopes cannot wait on each other (a
// deadlock with another kind of transaction is rolled back by PostgreSQL and sent again run by run).
export const lockScopesOfRunsStatement = (runIds: readonly string[]): SqlStatement => ({
  text: `SELECT pg_advisory_xact_lock(key) FROM (
      SELECT DISTINCT ${hashedPrefixedLockKey(HashedLockPrefix.runScope, "run.automation_id::text || ':' || coalesce(run.context_key, '*')")} AS key
      FROM automation_runs run JOIN automations a ON a.id = run.automation_id
      WHERE run.id = ANY($1::uuid[]) AND ${endLocksScopeSql("run", "a")} ORDER BY key) scopes`,
  values: [runIds],
});

// As finishRunStatement, per row.
export const finishRunsStatement = (endings: readonly RunEnding[]): SqlStatement => ({
  text: `
    WITH asked AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS e(id, status, error, stop_reason)),
    ended AS (
      UPDATE automation_runs r SET status = asked.status, error = asked.error, stop_reason = asked.stop_reason, finished_at = clock_timestamp()
      FROM asked WHERE r.id = asked.id AND ${statusOfRunFoundById("r.status", ["running"])} RETURNING r.id),
    closed AS (
      UPDATE automation_run_steps SET status = 'cancelled', finished_at = clock_timestamp()
      WHERE run_id IN (SELECT id FROM ended) AND status IN ('waiting', 'running') RETURNING 1),
    unwaited AS (DELETE FROM automation_run_waits WHERE run_id IN (SELECT id FROM ended) RETURNING 1)
    SELECT id FROM ended`,
  values: [
    endings.map((e) => e.runId),
    endings.map((e) => e.result.status),
    endings.map((e) => e.result.error ?? null),
    endings.map((e) => e.result.stopReason ?? null),
  ],
});

export const endedRunIds = ({ rows }: pg.QueryResult): Set<string> => new Set((rows as { id: string }[]).map((row) => row.id));

/** Gives up the runs' session locks (each once). */
export const unlockRunsStatement = (runIds: readonly string[]): SqlStatement => ({
  text: `SELECT pg_advisory_unlock(${hashedLockKey("key")}) FROM unnest($1::text[]) AS key`,
  values: [runIds.map((id) => LockKey.run(id))],
});
