// The engine's contract with the job queue (graphile-worker): task names, payload schemas, job
// keys and the SQL that adds and removes jobs. Every enqueue goes through here: a typo elsewhere would compile and silently break a wake.
import { uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import type { SqlStatement } from "../../entities/index.ts";

/** The graphile-worker tasks of the engine. */
export const AutomationTask = {
  /** Executes (or resumes) one run; payload `{ runId }`, job key the run id. */
  run: "automation.run",
  /** Fires one `for:` timer; payload `{ timerId }`, job key `timer:<timer id>`. */
  timer: "automation.trigger-for",
} as const;

export type AutomationTaskName = (typeof AutomationTask)[keyof typeof AutomationTask];

const payloadSchemas = {
  [AutomationTask.run]: z.object({ runId: uuidSchema() }),
  [AutomationTask.timer]: z.object({ timerId: uuidSchema() }),
} as const;

/** A job's payload, parsed: one that is not ours is a bug, so this throws (graphile-worker retries and reports it). */
export function parseJobPayload<Task extends AutomationTaskName>(task: Task, payload: unknown): z.infer<(typeof payloadSchemas)[Task]> {
  return payloadSchemas[task].parse(payload) as z.infer<(typeof payloadSchemas)[Task]>;
}

// Job keys. A run's job is keyed by the run id, so adding it again while one waits replaces
// that one (a wake moves a scheduled job to now), and adding it while one is locked takes the
// key off the locked job. A timer's key is prefixed, so it can never meet a run's.

/** SQL of a run's job key, from SQL of its id (a uuid column or parameter). */
const runJobKey = (runIdSql: string): string => `${runIdSql}::text`;

/** SQL of a timer's job key, from SQL of its id. */
const timerJobKey = (timerIdSql: string): string => `'timer:' || ${timerIdSql}`;

/**
 * SQL calling `add_job` for a run (a uuid expression); due now unless `runAtSql` is given.
 * Used inside the statement that writes the run, so the job commits with it.
 */
export function addRunJob(runIdSql: string, runAtSql?: string): string {
  const runAt = runAtSql === undefined ? "" : `, run_at := ${runAtSql}`;
  return `graphile_worker.add_job('${AutomationTask.run}', json_build_object('runId', ${runIdSql}), job_key := ${runJobKey(runIdSql)}${runAt})`;
}

/**
 * SQL of a set-returning call that adds a due job for every run of a uuid[] expression, as
 * addRunJob does one at a time, in one `add_jobs`: one task lookup and one NOTIFY for all. (Each
 * add_job sends a NOTIFY of its own — their payloads differ, so PostgreSQL does not fold them
 * — and each wakes the workers.) Use it only for a non-empty array: an empty one still notifies.
 */
export function addRunJobs(runIdsSql: string): string {
  const spec = `ROW('${AutomationTask.run}', json_build_object('runId', id), NULL, NULL, NULL, ${runJobKey("id")}, NULL, NULL)::graphile_worker.job_spec`;
  return `graphile_worker.add_jobs(ARRAY(SELECT ${spec} FROM unnest(${runIdsSql}) WITH ORDINALITY AS run (id, n) ORDER BY n))`;
}

/**
 * SQL of an INSERT of jobs for runs, already locked by the graphile-worker pool `workerIdSql`
 * (text), for that pool's core to execute at once without fetching them (execution/run-handoff.ts):
 * `fromSql` is a FROM item whose rows have a uuid `run_id` (new runs: no job has their key yet).
 * Returns (id, key). The row is what `get_jobs` leaves after locking a job (one attempt, locked
 * now, by the pool): nothing else can take it, a failure unlocks it with graphile-worker's backoff,
 * and the lease sweeper unlocks it if the pool's lease expires. No NOTIFY: no other worker need wake.
 * graphile-worker 0.17's tables (sql/000016.sql); a task not yet known inserts nothing.
 */
export function insertLockedRunJobs(fromSql: string, workerIdSql: string): string {
  return `INSERT INTO graphile_worker._private_jobs (task_id, payload, key, attempts, locked_by, locked_at)
    SELECT task.id, json_build_object('runId', run_id), ${runJobKey("run_id")}, 1, ${workerIdSql}, now()
    FROM ${fromSql} JOIN graphile_worker._private_tasks task ON task.identifier = '${AutomationTask.run}'
    RETURNING id, key`;
}

/** Unlocks jobs of pool `$2` (ids `$1`) as graphile-worker returns jobs it fetched but did not start: due again at once, the attempt not counted. */
export const returnLockedJobsStatement = (jobIds: readonly string[], workerId: string): SqlStatement => ({
  text: `UPDATE graphile_worker._private_jobs SET locked_by = NULL, locked_at = NULL, attempts = GREATEST(0, attempts - 1)
    WHERE id = ANY($1::bigint[]) AND locked_by = $2`,
  values: [jobIds, workerId],
});

/** returnLockedJobsStatement for the jobs of runs `$1` (by their job key), when the job ids are unknown. */
export const returnLockedRunJobsStatement = (runIds: readonly string[], workerId: string): SqlStatement => ({
  text: `UPDATE graphile_worker._private_jobs SET locked_by = NULL, locked_at = NULL, attempts = GREATEST(0, attempts - 1)
    WHERE key = ANY($1::text[]) AND locked_by = $2`,
  values: [runIds, workerId],
});

/**
 * Unlocks a job of pool `$2` whose task threw, as graphile-worker's `fail_job` does: its error
 * kept, due again after exp(min(attempts, 10)) seconds (a job out of attempts stays failed).
 */
export const failLockedJobStatement = (jobId: string, workerId: string, message: string): SqlStatement => ({
  text: `UPDATE graphile_worker._private_jobs
    SET last_error = $3, run_at = greatest(now(), run_at) + exp(least(attempts, 10)) * interval '1 second', locked_by = NULL, locked_at = NULL
    WHERE id = $1::bigint AND locked_by = $2`,
  values: [jobId, workerId, message],
});

/** Deletes jobs of pool `$2` once their tasks returned, as graphile-worker's completion does (a run's end may have deleted them already). */
export const completeLockedJobsStatement = (jobIds: readonly string[], workerId: string): SqlStatement => ({
  text: "DELETE FROM graphile_worker._private_jobs WHERE id = ANY($1::bigint[]) AND locked_by = $2",
  values: [jobIds, workerId],
});

/** SQL calling `add_job` for a `for:` timer (a uuid expression), due at `runAtSql`. */
export function addTimerJob(timerIdSql: string, runAtSql: string): string {
  return `graphile_worker.add_job('${AutomationTask.timer}', json_build_object('timerId', ${timerIdSql}), run_at := ${runAtSql}, job_key := ${timerJobKey(timerIdSql)})`;
}

/** SQL calling `remove_job` for a run (a uuid expression); a locked job is left alone (it finds its run ended). */
export const removeRunJob = (runIdSql: string): string => `graphile_worker.remove_job(${runJobKey(runIdSql)})`;

/** SQL calling `remove_job` for a timer (a uuid expression); a running job finds no timer. */
export const removeTimerJob = (timerIdSql: string): string => `graphile_worker.remove_job(${timerJobKey(timerIdSql)})`;

/**
 * Deletes the jobs graphile-worker handed to our tasks (their ids), as its own completion does
 * once a task returns, so a run's end can complete its job in the same transaction: the
 * completion graphile-worker sends later finds nothing and writes nothing, and a process that
 * dies between the end and that completion leaves no locked job for the lease sweeper to free.
 * A job in a named queue is left to graphile-worker, which also unlocks its queue (ours have none).
 * graphile-worker 0.17's table: its `complete_jobs` function skips locked jobs.
 */
export const completeJobsStatement = (jobIds: readonly string[]): SqlStatement => ({
  text: "DELETE FROM graphile_worker._private_jobs WHERE id = ANY($1::bigint[]) AND job_queue_id IS NULL",
  values: [jobIds],
});
