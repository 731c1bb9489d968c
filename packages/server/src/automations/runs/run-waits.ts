// wait_until steps woken by entity changes: a waiting step registers the entities its
// condition read; the router's automation sink wakes the runs waiting on a batch's entities.
import type { EntityRegistry, RoutedChange, SqlClient } from "../../entities/index.ts";
import { addRunJob } from "./automation-jobs.ts";
import { HashedLockPrefix, hashedLockKey, hashedPrefixedLockKey, LockKey } from "../../storage/index.ts";
import { entityReader } from "../definitions/entity-reader.ts";
import type { EvaluationContext } from "../expressions/index.ts";
import { statusOfRunFoundById } from "./run-status-sql.ts";

export interface EntityRef {
  kind: string;
  id: string;
}

/** An `entity(kind, id)` for one evaluation that remembers what it read. */
export function recordingReader(entities: Pick<EntityRegistry, "entity">): { entity: EvaluationContext["entity"]; reads(): EntityRef[] } {
  return recordReads(entityReader(entities));
}

/** `read` (current state, or history as a replay sees it) remembering what it was asked for. */
export function recordReads(read: EvaluationContext["entity"]): { entity: EvaluationContext["entity"]; reads(): EntityRef[] } {
  const seen = new Map<string, EntityRef>();
  return {
    entity: (kind, id) => {
      seen.set(JSON.stringify([kind, id]), { kind, id });
      return read(kind, id);
    },
    reads: () => [...seen.values()],
  };
}

/** Replaces the entities a waiting step waits on (its condition may read others this time). */
export async function registerWaits(tx: SqlClient, runId: string, path: string, refs: readonly EntityRef[]): Promise<void> {
  await tx.query("DELETE FROM automation_run_waits WHERE run_id = $1 AND step_path = $2", [runId, path]);
  await tx.query(
    `INSERT INTO automation_run_waits (run_id, step_path, entity_kind, entity_id)
     SELECT $1, $2, kind, id FROM unnest($3::text[], $4::text[]) AS ref(kind, id)`,
    [runId, path, refs.map((ref) => ref.kind), refs.map((ref) => ref.id)],
  );
}

/** Drops the waits of one step, or of the whole run. */
export async function clearWaits(db: SqlClient, runId: string, path?: string): Promise<void> {
  await db.query("DELETE FROM automation_run_waits WHERE run_id = $1 AND ($2::text IS NULL OR step_path = $2)", [runId, path ?? null]);
}

/** Drops every wait of these runs (cancelled: routed changes must stop waking them). */
export async function clearRunsWaits(db: SqlClient, runIds: readonly string[]): Promise<void> {
  await db.query("DELETE FROM automation_run_waits WHERE run_id = ANY($1::uuid[])", [runIds]);
}

// Wakes and the scheduling of a suspended run meet on this lock (transaction-level): a wake
// holds it shared from its add_job until the router's transaction commits.
const wakeLock = (runIdSql: string) => hashedPrefixedLockKey(HashedLockPrefix.runWake, runIdSql);

/**
 * Holds off wakes of the run until the transaction ends, after waiting for those in flight:
 * a job a wake added before this returned is visible to the next statement, and a later wake
 * comes after the commit.
 */
export async function holdWakes(tx: SqlClient, runId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${hashedLockKey("$1")})`, [LockKey.runWake(runId)]);
}

// The running runs waiting on an entity of the batch ($1 kinds, $2 ids): its (kind, id) pairs
// probe automation_run_waits_entity.
const RUNS_WAITING_ON_BATCH = `
  FROM automation_runs run
  WHERE ${statusOfRunFoundById("run.status", ["running"])} AND run.id IN (
    SELECT w.run_id FROM unnest($1::text[], $2::text[]) AS changed(kind, id)
    JOIN automation_run_waits w ON w.entity_kind = changed.kind AND w.entity_id = changed.id)`;

// One query per batch. The job key is the run id, so a run's scheduled job (its timeout) is
// moved to now, and a job locked by an execution in progress gets a successor that runs once
// that execution lets go of the run.
const WAKE = `
  WITH woken AS (
    SELECT run.id, pg_advisory_xact_lock_shared(${wakeLock("run.id")}) ${RUNS_WAITING_ON_BATCH}
    ORDER BY run.id)
  SELECT ${addRunJob("id")} FROM woken`;

/** Wakes (in the router's transaction) every run waiting on an entity changed in the batch. Returns how many. */
export async function wakeWaitingRuns(batch: readonly RoutedChange[], tx: SqlClient): Promise<number> {
  if (batch.length === 0) return 0;
  const { rowCount } = await tx.query(WAKE, [batch.map((routed) => routed.change.kind), batch.map((routed) => routed.change.id)]);
  return rowCount ?? 0;
}

// WAKE's probe without its lock and jobs: whether the batch has a run to wake.
const ANY_WAITING = `SELECT EXISTS (SELECT 1 ${RUNS_WAITING_ON_BATCH}) AS waiting`;

/**
 * Whether a running run waits on an entity the batch changed: read before the router's
 * transaction, by a statement issued after the batch's read of the outbox. A wait this misses
 * committed after that read, so after every change of the batch, and its step checks its
 * condition again once the wait committed (wait-until-action.ts): it sees those changes itself.
 */
export async function anyRunWaitsOn(db: SqlClient, batch: readonly RoutedChange[]): Promise<boolean> {
  if (batch.length === 0) return false;
  const { rows } = await db.query<{ waiting: boolean }>(ANY_WAITING, [batch.map((routed) => routed.change.kind), batch.map((routed) => routed.change.id)]);
  return rows[0]!.waiting;
}
