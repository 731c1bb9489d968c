// The execution side of automation_runs and automation_run_steps: claiming a run, its step
// records (each written before the next step starts), durable waits and the run's end.
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import type { SqlClient, SqlStatement } from "../../entities/index.ts";
import type { TimeGranularity } from "../definitions/compile-automation.ts";
import { addRunJob } from "./automation-jobs.ts";
import type { RunTrigger } from "./automation-runs.ts";
import { statusOfRunFoundById } from "./run-status-sql.ts";

/** `cancelled`: the run ended while the step was still open (see cancelOpenSteps). */
export const STEP_STATUSES = ["running", "waiting", "succeeded", "failed", "cancelled"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A run being executed, with its automation's current definition. */
export interface ClaimedRun {
  id: string;
  automationId: string;
  automationName: string;
  automationVersion: number;
  definition: unknown;
  trigger: RunTrigger;
}

export interface StepRecord {
  path: string;
  status: StepStatus;
  /** A waiting step whose due time has passed (by the database's clock, which schedules jobs). */
  due: boolean;
  output: JsonValue | null;
  error: string | null;
}

export interface StepView {
  path: string;
  kind: string;
  status: StepStatus;
  input: JsonValue | null;
  output: JsonValue | null;
  error: string | null;
  attempts: number;
  dueAt: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export type StepResult = { status: "succeeded" | "failed"; output?: JsonValue; error?: string };

export type ClaimedRow = { id: string; automation_id: string; name: string; version: number; definition: unknown; trigger: RunTrigger };

/**
 * pending → running (a resumed run is already running); no run if it ended, is queued,
 * cancelled or gone. `lock`: SQL of a boolean on the caller's parameters after $1 (`$2`, …),
 * evaluated once before the claim, which happens only if it is true; returned as `held`.
 */
export const claimRunStatement = (runId: string, lock: { sql: string; values: unknown[] } = { sql: "true", values: [] }): SqlStatement => ({
  // The definition the run was decided on (a run decided before versions were kept runs the current one).
  text: `WITH lock AS MATERIALIZED (SELECT ${lock.sql} AS held),
     claimed AS (
       UPDATE automation_runs r SET status = 'running', started_at = coalesce(r.started_at, clock_timestamp())
       WHERE r.id = $1 AND ${statusOfRunFoundById("r.status", ["pending", "running"])} AND (SELECT held FROM lock)
       RETURNING r.id, r.automation_id, r.automation_version, r.trigger)
     SELECT lock.held, c.id, c.automation_id, a.name, c.automation_version AS version, coalesce(v.definition, a.definition) AS definition, c.trigger
     FROM lock LEFT JOIN (claimed c JOIN automations a ON a.id = c.automation_id
       LEFT JOIN automation_versions v ON v.automation_id = c.automation_id AND v.version = c.automation_version) ON true`,
  values: [runId, ...lock.values],
});

/** The run claimRunStatement claimed, or null. */
export function claimedRun({ rows }: pg.QueryResult): ClaimedRun | null {
  // With no run claimed, the row is the lock's alone: its run columns are null.
  const row = rows[0] as ClaimedRow | undefined;
  return row?.id ? claimedRunOf(row) : null;
}

/** A claim's row (the run's columns with its automation's name, version and definition) as the run to execute. */
export function claimedRunOf(row: ClaimedRow): ClaimedRun {
  return {
    id: row.id,
    automationId: row.automation_id,
    automationName: row.name,
    automationVersion: row.version,
    definition: row.definition,
    trigger: row.trigger,
  };
}

/** pending → running (a resumed run is already running); null if the run ended, is queued, cancelled or gone. */
export async function claimRun(db: SqlClient, runId: string): Promise<ClaimedRun | null> {
  const { text, values } = claimRunStatement(runId);
  return claimedRun(await db.query(text, values));
}

type StepRow = { step_path: string; status: StepStatus; due: boolean | null; output: JsonValue | null; error: string | null };

/** The run's step records, read by `stepRecords`. */
export const loadStepsStatement = (runId: string): SqlStatement => ({
  text: "SELECT step_path, status, due_at <= clock_timestamp() AS due, output, error FROM automation_run_steps WHERE run_id = $1",
  values: [runId],
});

export function stepRecords({ rows }: pg.QueryResult): Map<string, StepRecord> {
  return new Map(
    (rows as StepRow[]).map((row) => [row.step_path, { path: row.step_path, status: row.status, due: row.due === true, output: row.output, error: row.error }]),
  );
}

export async function loadSteps(db: SqlClient, runId: string): Promise<Map<string, StepRecord>> {
  const { text, values } = loadStepsStatement(runId);
  return stepRecords(await db.query(text, values));
}

// Every write that moves a run forward checks, in the same statement, that the run is still
// running: a run cancelled (or restarted) meanwhile stops at its next step boundary.
const STILL_RUNNING = `EXISTS (SELECT 1 FROM automation_runs WHERE id = $1 AND ${statusOfRunFoundById("status", ["running"])})`;

/**
 * Records a step as running with its (masked) input, and an output known before it runs (a
 * choose's branch); a re-executed step keeps its attempts. False if the run is no longer running.
 */
export const startStepStatement = (runId: string, path: string, kind: string, input: JsonValue, output: JsonValue | null = null): SqlStatement => ({
  text: `INSERT INTO automation_run_steps (run_id, step_path, kind, status, input, output)
     SELECT $1, $2, $3, 'running', $4::jsonb, $5::jsonb WHERE ${STILL_RUNNING}
     ON CONFLICT (run_id, step_path) DO UPDATE SET status = 'running', input = EXCLUDED.input, output = EXCLUDED.output, error = NULL, finished_at = NULL`,
  values: [runId, path, kind, JSON.stringify(input), output === null ? null : JSON.stringify(output)],
});

/** Counts an attempt before it is made, so a crash mid-attempt still shows it. */
export const countAttemptStatement = (runId: string, path: string): SqlStatement => ({
  text: "UPDATE automation_run_steps SET attempts = attempts + 1 WHERE run_id = $1 AND step_path = $2",
  values: [runId, path],
});

const finishParams = (runId: string, path: string, result: StepResult) => [
  runId,
  path,
  result.status,
  result.output === undefined ? null : JSON.stringify(result.output),
  result.error ?? null,
];

const FINISH_STEP = `UPDATE automation_run_steps SET status = $3, output = $4::jsonb, error = $5, finished_at = clock_timestamp()
  WHERE run_id = $1 AND step_path = $2`;

/** The outcome of a step that ran: recorded even if the run was cancelled meanwhile, since it happened. */
export const finishStepStatement = (runId: string, path: string, result: StepResult): SqlStatement => ({
  text: FINISH_STEP,
  values: finishParams(runId, path, result),
});

/** The attempts of a step that ran: all it made, and those its start was to count. */
export interface RanAttempts {
  made: number;
  countedWithStart: number;
}

/**
 * A step that executed while its start was in flight, which then found the run no longer
 * running (cancelled just before): recorded as one that started just before the cancel and
 * recorded its outcome over it (cancelOpenSteps), since it happened; nothing if the run is
 * gone. Its attempts: without a record, every one made; over the record of an earlier
 * execution, those the start was to count (the later ones were counted on that record).
 */
export const recordRanStepStatement = (
  runId: string,
  path: string,
  kind: string,
  input: JsonValue,
  result: StepResult,
  attempts: RanAttempts,
): SqlStatement => ({
  text: `INSERT INTO automation_run_steps (run_id, step_path, kind, status, input, output, error, attempts, finished_at)
     SELECT $1, $2, $6, $3, $7::jsonb, $4::jsonb, $5, $8, clock_timestamp() WHERE EXISTS (SELECT 1 FROM automation_runs WHERE id = $1)
     ON CONFLICT (run_id, step_path) DO UPDATE SET status = EXCLUDED.status, input = EXCLUDED.input, output = EXCLUDED.output, error = EXCLUDED.error,
       finished_at = EXCLUDED.finished_at, attempts = automation_run_steps.attempts + $9`,
  values: [...finishParams(runId, path, result), kind, JSON.stringify(input), attempts.made, attempts.countedWithStart],
});

/**
 * Makes the step a durable wait due `delayMs` from now; a due time already set is kept (a
 * wait_until waiting again keeps its timeout). The run's job is scheduled once the whole run
 * suspended (`scheduleRun`), not here. False if the run is no longer running.
 */
export async function waitStep(db: SqlClient, runId: string, path: string, delayMs: number, recheckEvery: TimeGranularity | null = null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE automation_run_steps SET status = 'waiting', attempts = attempts + 1,
       due_at = coalesce(due_at, clock_timestamp() + $3 * interval '1 millisecond'),
       recheck_at = date_trunc($4, clock_timestamp()) + ('1 ' || $4)::interval
     WHERE run_id = $1 AND step_path = $2 AND ${STILL_RUNNING}`,
    [runId, path, delayMs, recheckEvery],
  );
  return rowCount === 1;
}

/**
 * Ends a step that is not being executed (a wait whose delay passed, whose condition held or
 * timed out). False if the run is no longer running: the step is left as it was.
 */
export async function settleStep(db: SqlClient, runId: string, path: string, result: StepResult): Promise<boolean> {
  const { rowCount } = await db.query(`${FINISH_STEP} AND ${STILL_RUNNING}`, finishParams(runId, path, result));
  return rowCount === 1;
}

// Called by the one executor of the run (it holds the run's lock) once every branch ended or
// suspended, so the earliest due time is final; in a transaction that holds off wakes
// (`holdWakes`), so a wake is either visible here or comes after. The job key is the run id:
// the current job is still locked, so graphile-worker takes the key off it and adds a new job.
// An unlocked job with the key (a wake during this execution, or a schedule of an earlier
// one) is replaced, never moved later than it was due.
const SCHEDULE_RUN = `
  SELECT ${addRunJob("$1::uuid", "least(due, (SELECT min(run_at) FROM graphile_worker.jobs WHERE key = $1::text AND locked_at IS NULL))")}
  FROM (SELECT min(least(due_at, recheck_at)) AS due FROM automation_run_steps WHERE run_id = $1 AND status = 'waiting') earliest
  WHERE due IS NOT NULL`;

/** Schedules the run's job at the earliest due time of its waiting steps (none waiting: nothing). */
export async function scheduleRun(tx: SqlClient, runId: string): Promise<void> {
  await tx.query(SCHEDULE_RUN, [runId]);
}

// The executor was interrupted (its core is stopping): the run's job is due again now, under
// its key, so whichever worker is free (on another core at once) resumes it after its last
// recorded step. Like SCHEDULE_RUN, this takes the key off the job still locked here, which
// then completes without the run; no lease has to expire first.
const REQUEUE_RUN = `SELECT ${addRunJob("$1::uuid")}`;

/** Makes the run's job due now, for another execution to resume it. */
export async function requeueRun(db: SqlClient, runId: string): Promise<void> {
  await db.query(REQUEUE_RUN, [runId]);
}

export type RunEnd = { status: "succeeded" | "failed"; error?: string; stopReason?: string | null };

// One statement: the run's end, its open steps closed and its waits dropped, only if it was
// still running (a cancelled run was closed by whoever cancelled it).
const FINISH_RUN = `
  WITH ended AS (
    UPDATE automation_runs SET status = $2, error = $3, stop_reason = $4, finished_at = clock_timestamp()
    WHERE id = $1 AND ${statusOfRunFoundById("status", ["running"])} RETURNING id),
  closed AS (
    UPDATE automation_run_steps SET status = 'cancelled', finished_at = clock_timestamp()
    WHERE run_id IN (SELECT id FROM ended) AND status IN ('waiting', 'running') RETURNING 1),
  unwaited AS (DELETE FROM automation_run_waits WHERE run_id IN (SELECT id FROM ended) RETURNING 1)
  SELECT id FROM ended`;

/** Ends a running run, closing its open steps and dropping its waits; no row if it was no longer running (cancelled, ended elsewhere). */
export const finishRunStatement = (runId: string, result: RunEnd): SqlStatement => ({
  text: FINISH_RUN,
  values: [runId, result.status, result.error ?? null, result.stopReason ?? null],
});

/**
 * Closes the waiting and running steps of runs that ended or were cancelled, as `cancelled`:
 * nothing will resume them. A step still executing when its run was cancelled records its
 * real outcome over this when it returns (finishStep), since that happened.
 */
export async function cancelOpenSteps(db: SqlClient, runIds: readonly string[]): Promise<void> {
  await db.query(
    `UPDATE automation_run_steps SET status = 'cancelled', finished_at = clock_timestamp()
     WHERE run_id = ANY($1::uuid[]) AND status IN ('waiting', 'running')`,
    [runIds],
  );
}

type Timestamps = "dueAt" | "startedAt" | "finishedAt";

/** A run's step records in execution order (for traces and tests). */
export async function listSteps(db: pg.Pool, runId: string): Promise<StepView[]> {
  const { rows } = await db.query<Omit<StepView, Timestamps> & { dueAt: Date | null; startedAt: Date; finishedAt: Date | null }>(
    `SELECT step_path AS path, kind, status, input, output, error, attempts, due_at AS "dueAt", started_at AS "startedAt", finished_at AS "finishedAt"
     FROM automation_run_steps WHERE run_id = $1 ORDER BY started_at, step_path`,
    [runId],
  );
  return rows.map((row) => ({
    ...row,
    dueAt: row.dueAt?.toISOString() ?? null,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  }));
}
