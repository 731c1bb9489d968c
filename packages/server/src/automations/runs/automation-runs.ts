// The automation_runs and automation_skips tables: what the router's automation sink
// records (inside the router's transaction) and what the API lists back, newest first.
import type pg from "pg";
import type { SqlClient } from "../../entities/index.ts";
import { SUPPRESSION_REASONS } from "../triggers/trigger.ts";
import { addRunJob } from "./automation-jobs.ts";

/** `queued`: waiting its turn (mode queued); no job exists until it is promoted to pending. */
export const RUN_STATUSES = ["queued", "pending", "running", "succeeded", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Only runs in these states count against a mode's limits. */
export const ACTIVE_RUN_STATUSES = ["queued", "pending", "running"] as const;

export const SKIP_REASONS = [
  "filter_false",
  "condition_false",
  "invalid_payload",
  /** mode single: a run of the same scope is active. */
  "busy",
  /** modes queued and parallel: maxRuns runs of the same scope are active. */
  "max_runs",
  /** The automation was disabled between the index's last reload and the decision. */
  "automation_disabled",
  /** A trigger with `for:` stopped matching before its duration ran out. */
  "for_cancelled",
  /** The module that fired the event silenced it (a flapping check, a maintenance window). */
  ...SUPPRESSION_REASONS,
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Where a decision comes from: one trigger of one automation version, fired by one change (none for a manual run). */
export interface DecisionKey {
  automationId: string;
  automationVersion: number;
  triggerId: string;
  triggerEvent: string;
  changeId: string | null;
}

/** One evaluated check of a decision: the trigger's filter or a top-level condition. */
export interface Verdict {
  /** Where the check sits in the definition, e.g. `triggers.0.filter`, `conditions.1`. */
  path: string;
  passed: boolean;
}

/** The trigger as a run stores it: what fired, with what payload, from which change. */
export interface RunTrigger {
  event: string;
  triggerId: string;
  payload: unknown;
  /** The trigger's `for:` duration: the run started once the entity had kept matching this long. */
  forMs: number | null;
  /** The change that fired the trigger; null for a manual run. */
  change: { changeId: string; seq: number; kind: string; id: string; occurredAt: string } | null;
}

/** The id a manual run's trigger carries (its event is `manual` too). */
export const MANUAL_TRIGGER_ID = "manual";

export interface RunView extends DecisionKey {
  id: string;
  contextKey: string | null;
  status: RunStatus;
  trigger: RunTrigger;
  verdicts: Verdict[];
  error: string | null;
  stopReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SkipView extends DecisionKey {
  id: string;
  reason: SkipReason;
  detail: Record<string, unknown>;
  verdicts: Verdict[];
  createdAt: string;
}

// Both insert only while the automation still exists: one deleted after the index last
// reloaded records nothing, instead of failing the router's batch on the foreign key.
// A pending run's job is enqueued in the same statement (so in the deciding transaction),
// keyed by the run id; a queued run gets its job when promoted; a redelivered change inserts
// no run and so enqueues nothing. (CASE evaluates add_job only for a pending run.)
const INSERT_RUN = `
  WITH run AS (
    INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, trigger, verdicts, status)
    SELECT id, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9 FROM automations WHERE id = $1
    ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING
    RETURNING id, status)
  SELECT id, CASE WHEN status = 'pending' THEN ${addRunJob("id")} END FROM run`;

const INSERT_SKIP = `
  INSERT INTO automation_skips (automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail, verdicts)
  SELECT id, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb FROM automations WHERE id = $1
  ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING`;

const keyParams = (key: DecisionKey) => [key.automationId, key.automationVersion, key.triggerId, key.triggerEvent, key.changeId];

export interface NewRun {
  contextKey: string | null;
  trigger: RunTrigger;
  verdicts: readonly Verdict[];
  /** pending: its job is enqueued now; queued: it waits for promotion. */
  status: "pending" | "queued";
}

/** Records a run (and a pending run's job); a second call for the same key changes nothing. The new run's id, or null. */
export async function insertRun(tx: SqlClient, key: DecisionKey, run: NewRun): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(INSERT_RUN, [
    ...keyParams(key),
    run.contextKey,
    JSON.stringify(run.trigger),
    JSON.stringify(run.verdicts),
    run.status,
  ]);
  return rows[0]?.id ?? null;
}

/** Records why a trigger did not start a run; a second call for the same key changes nothing. */
export async function insertSkip(
  tx: SqlClient,
  key: DecisionKey,
  reason: SkipReason,
  detail: Record<string, unknown>,
  verdicts: readonly Verdict[] = [],
): Promise<boolean> {
  const result = await tx.query(INSERT_SKIP, [...keyParams(key), reason, JSON.stringify(detail), JSON.stringify(verdicts)]);
  return result.rowCount === 1;
}

/** The columns runs and skips share: what was decided, for which change, when. */
interface DecisionRow {
  id: string;
  automation_id: string;
  automation_version: number;
  trigger_id: string;
  trigger_event: string;
  change_id: string | null;
  created_at: Date;
}

interface RunRow extends DecisionRow {
  context_key: string | null;
  status: RunStatus;
  trigger: RunTrigger;
  verdicts: Verdict[];
  error: string | null;
  stop_reason: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

interface SkipRow extends DecisionRow {
  reason: SkipReason;
  detail: Record<string, unknown>;
  verdicts: Verdict[];
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

const RUN_COLUMNS = `id, automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, status, trigger, verdicts,
  error, stop_reason, created_at, started_at, finished_at`;

const toRunView = (row: RunRow): RunView => ({
  ...common(row),
  contextKey: row.context_key,
  status: row.status,
  trigger: row.trigger,
  verdicts: row.verdicts,
  error: row.error,
  stopReason: row.stop_reason,
  startedAt: row.started_at?.toISOString() ?? null,
  finishedAt: row.finished_at?.toISOString() ?? null,
});

/** A page of a newest-first list: at most `limit` rows, only `status`/`reason` if given, older than the row `before`. */
export interface ListQuery<Filter extends string> {
  limit?: number;
  filter?: Filter;
  /** The id of the last row of the previous page. */
  before?: string;
}

// Keyset paging on (created_at, id), the order automation_runs_newest / automation_skips_newest serve.
const pageOf = (table: string, filterColumn: string) => `
  WHERE automation_id = $1 AND ($3::text IS NULL OR ${filterColumn} = $3)
    AND ($4::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = $4))
  ORDER BY created_at DESC, id DESC LIMIT $2`;

const pageParams = <Filter extends string>(automationId: string, query: ListQuery<Filter>) => [
  automationId,
  query.limit ?? DEFAULT_LIST_LIMIT,
  query.filter ?? null,
  query.before ?? null,
];

/** Runs of one automation, newest first. */
export async function listRuns(db: pg.Pool | SqlClient, automationId: string, page: ListQuery<RunStatus> = {}): Promise<RunView[]> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM automation_runs ${pageOf("automation_runs", "status")}`, pageParams(automationId, page));
  return rows.map(toRunView);
}

/** One run of one automation, or null. */
export async function getRun(db: pg.Pool | SqlClient, automationId: string, runId: string): Promise<RunView | null> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM automation_runs WHERE id = $1 AND automation_id = $2`, [runId, automationId]);
  return rows[0] ? toRunView(rows[0]) : null;
}

/** Skips of one automation, newest first. */
export async function listSkips(db: pg.Pool | SqlClient, automationId: string, page: ListQuery<SkipReason> = {}): Promise<SkipView[]> {
  const { rows } = await db.query<SkipRow>(
    `SELECT id, automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail, verdicts, created_at
     FROM automation_skips ${pageOf("automation_skips", "reason")}`,
    pageParams(automationId, page),
  );
  return rows.map((row) => ({ ...common(row), reason: row.reason, detail: row.detail, verdicts: row.verdicts }));
}
