// The automation_runs and automation_skips tables: what the router's automation sink
// records (inside the router's transaction) and what the API lists back, newest first.
import type pg from "pg";
import type { SqlClient } from "../entities/index.ts";

export type RunStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

export type SkipReason = "filter_false" | "condition_false" | "invalid_payload";

/** Where a decision comes from: one trigger of one automation version, fired by one change. */
export interface DecisionKey {
  automationId: string;
  automationVersion: number;
  triggerId: string;
  triggerEvent: string;
  changeId: string;
}

/** The trigger as a run stores it: what fired, with what payload, from which change. */
export interface RunTrigger {
  event: string;
  triggerId: string;
  payload: unknown;
  /** The trigger's `for:` duration; the run engine (next stage) honours it, the router does not. */
  forMs: number | null;
  change: { changeId: string; seq: number; kind: string; id: string; occurredAt: string };
}

export interface RunView extends DecisionKey {
  id: string;
  contextKey: string | null;
  status: RunStatus;
  trigger: RunTrigger;
  createdAt: string;
}

export interface SkipView extends DecisionKey {
  id: string;
  reason: SkipReason;
  detail: Record<string, unknown>;
  createdAt: string;
}

/** The graphile-worker task that executes one run; its payload is `{ runId }`. */
export const RUN_TASK = "automation.run";

// Both insert only while the automation still exists: one deleted after the index last
// reloaded records nothing, instead of failing the router's batch on the foreign key.
// A new run's job is enqueued in the same statement (so in the router's transaction), keyed
// by the run id; a redelivered change inserts no run and so enqueues nothing.
const INSERT_RUN = `
  WITH run AS (
    INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, trigger)
    SELECT id, $2, $3, $4, $5, $6, $7::jsonb FROM automations WHERE id = $1
    ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING
    RETURNING id)
  SELECT graphile_worker.add_job('${RUN_TASK}', json_build_object('runId', id), job_key := id::text) FROM run`;

const INSERT_SKIP = `
  INSERT INTO automation_skips (automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail)
  SELECT id, $2, $3, $4, $5, $6, $7::jsonb FROM automations WHERE id = $1
  ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING`;

const keyParams = (key: DecisionKey) => [key.automationId, key.automationVersion, key.triggerId, key.triggerEvent, key.changeId];

/** Records a pending run and enqueues its job; a second call for the same key changes nothing. True if inserted. */
export async function insertRun(tx: SqlClient, key: DecisionKey, run: { contextKey: string | null; trigger: RunTrigger }): Promise<boolean> {
  const result = await tx.query(INSERT_RUN, [...keyParams(key), run.contextKey, JSON.stringify(run.trigger)]);
  return result.rowCount === 1;
}

/** Records why a trigger did not start a run; a second call for the same key changes nothing. */
export async function insertSkip(tx: SqlClient, key: DecisionKey, reason: SkipReason, detail: Record<string, unknown>): Promise<boolean> {
  const result = await tx.query(INSERT_SKIP, [...keyParams(key), reason, JSON.stringify(detail)]);
  return result.rowCount === 1;
}

/** The columns runs and skips share: what was decided, for which change, when. */
interface DecisionRow {
  id: string;
  automation_id: string;
  automation_version: number;
  trigger_id: string;
  trigger_event: string;
  change_id: string;
  created_at: Date;
}

interface RunRow extends DecisionRow {
  context_key: string | null;
  status: RunStatus;
  trigger: RunTrigger;
}

interface SkipRow extends DecisionRow {
  reason: SkipReason;
  detail: Record<string, unknown>;
}

const common = (row: DecisionRow) => ({
  id: row.id,
  automationId: row.automation_id,
  automationVersion: row.automation_version,
  triggerId: row.trigger_id,
  triggerEvent: row.trigger_event,
  changeId: row.change_id,
  createdAt: row.created_at.toISOString(),
});

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** Runs of one automation, newest first. */
export async function listRuns(db: pg.Pool | SqlClient, automationId: string, limit = DEFAULT_LIST_LIMIT): Promise<RunView[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT id, automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, status, trigger, created_at
     FROM automation_runs WHERE automation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [automationId, limit],
  );
  return rows.map((row) => ({ ...common(row), contextKey: row.context_key, status: row.status, trigger: row.trigger }));
}

/** Skips of one automation, newest first. */
export async function listSkips(db: pg.Pool | SqlClient, automationId: string, limit = DEFAULT_LIST_LIMIT): Promise<SkipView[]> {
  const { rows } = await db.query<SkipRow>(
    `SELECT id, automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail, created_at
     FROM automation_skips WHERE automation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [automationId, limit],
  );
  return rows.map((row) => ({ ...common(row), reason: row.reason, detail: row.detail }));
}
