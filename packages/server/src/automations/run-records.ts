// The execution side of automation_runs and automation_run_steps: claiming a run, its step
// records (each written before the next step starts), durable waits and the run's end.
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import { RUN_TASK, type RunTrigger } from "./automation-runs.ts";

export type StepStatus = "running" | "waiting" | "succeeded" | "failed";

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

/** pending → running (a resumed run is already running); null if the run ended or is gone. */
export async function claimRun(db: pg.Pool, runId: string): Promise<ClaimedRun | null> {
  const { rows } = await db.query<{ id: string; automation_id: string; name: string; version: number; definition: unknown; trigger: RunTrigger }>(
    `UPDATE automation_runs r SET status = 'running', started_at = coalesce(r.started_at, clock_timestamp())
     FROM automations a
     WHERE r.id = $1 AND a.id = r.automation_id AND r.status IN ('pending', 'running')
     RETURNING r.id, r.automation_id, a.name, a.version, a.definition, r.trigger`,
    [runId],
  );
  const row = rows[0];
  return row ? { id: row.id, automationId: row.automation_id, automationName: row.name, automationVersion: row.version, definition: row.definition, trigger: row.trigger } : null;
}

export async function loadSteps(db: pg.Pool, runId: string): Promise<Map<string, StepRecord>> {
  const { rows } = await db.query<{ step_path: string; status: StepStatus; due: boolean | null; output: JsonValue | null }>(
    "SELECT step_path, status, due_at <= clock_timestamp() AS due, output FROM automation_run_steps WHERE run_id = $1",
    [runId],
  );
  return new Map(rows.map((row) => [row.step_path, { path: row.step_path, status: row.status, due: row.due === true, output: row.output }]));
}

/** Records a step as running with its (masked) input; a re-executed step keeps its attempts. */
export async function startStep(db: pg.Pool, runId: string, path: string, kind: string, input: JsonValue): Promise<void> {
  await db.query(
    `INSERT INTO automation_run_steps (run_id, step_path, kind, status, input) VALUES ($1, $2, $3, 'running', $4::jsonb)
     ON CONFLICT (run_id, step_path) DO UPDATE SET status = 'running', input = EXCLUDED.input, output = NULL, error = NULL, finished_at = NULL`,
    [runId, path, kind, JSON.stringify(input)],
  );
}

/** Counts an attempt before it is made, so a crash mid-attempt still shows it. */
export async function countAttempt(db: pg.Pool, runId: string, path: string): Promise<void> {
  await db.query("UPDATE automation_run_steps SET attempts = attempts + 1 WHERE run_id = $1 AND step_path = $2", [runId, path]);
}

export async function finishStep(db: pg.Pool, runId: string, path: string, result: { status: "succeeded" | "failed"; output?: JsonValue; error?: string }): Promise<void> {
  await db.query(
    `UPDATE automation_run_steps SET status = $3, output = $4::jsonb, error = $5, finished_at = clock_timestamp()
     WHERE run_id = $1 AND step_path = $2`,
    [runId, path, result.status, result.output === undefined ? null : JSON.stringify(result.output), result.error ?? null],
  );
}

// The step turns waiting and the run's job is scheduled for the due time in one statement, so
// neither exists without the other. The job key is the run id: while this job is still locked,
// graphile-worker takes the key off it and adds a new job, which runs at `run_at`.
const WAIT_STEP = `
  WITH step AS (
    UPDATE automation_run_steps SET status = 'waiting', attempts = attempts + 1,
      due_at = coalesce(due_at, clock_timestamp() + $3 * interval '1 millisecond')
    WHERE run_id = $1 AND step_path = $2
    RETURNING due_at)
  SELECT graphile_worker.add_job('${RUN_TASK}', json_build_object('runId', $1::uuid), run_at := due_at, job_key := $1::text) FROM step`;

/** Makes the step a durable wait of `delayMs` (a due time already set is kept) and schedules the run for then. */
export async function waitStep(db: pg.Pool, runId: string, path: string, delayMs: number): Promise<void> {
  await db.query(WAIT_STEP, [runId, path, delayMs]);
}

export async function finishRun(db: pg.Pool, runId: string, result: { status: "succeeded" | "failed"; error?: string; stopReason?: string | null }): Promise<void> {
  await db.query(
    `UPDATE automation_runs SET status = $2, error = $3, stop_reason = $4, finished_at = clock_timestamp()
     WHERE id = $1 AND status = 'running'`,
    [runId, result.status, result.error ?? null, result.stopReason ?? null],
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
  return rows.map((row) => ({ ...row, dueAt: row.dueAt?.toISOString() ?? null, startedAt: row.startedAt.toISOString(), finishedAt: row.finishedAt?.toISOString() ?? null }));
}
