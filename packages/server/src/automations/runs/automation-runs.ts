// The automation_runs and automation_skips tables: what the router's automation sink
// records (inside the router's transaction) and what the API lists back, newest first.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { SqlClient } from "../../entities/index.ts";
import { SUPPRESSION_REASONS } from "../triggers/trigger.ts";
import { addRunJobs, AutomationTask, insertLockedRunJobs } from "./automation-jobs.ts";

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
// A batch of decisions is one statement per table: its rows travel as one JSON array (ids
// chosen by the caller, so it knows every decision's run before the answer comes back), in
// decision order (created_at is clock_timestamp(), so a scope's runs keep their order).

const RUN_FIELDS = `id uuid, automation_id uuid, automation_version integer, trigger_id text, trigger_event text, change_id uuid,
  context_key text, trigger jsonb, verdicts jsonb, status text`;

// The pending runs' jobs are enqueued in the same statement (so in the deciding transaction),
// keyed by the run id, in one add_jobs; a queued run gets its job when promoted; a redelivered
// change inserts no run and so enqueues nothing. (CASE: add_jobs is not called without a pending run.)
// Pending runs among $3 are handed to worker pool $2 instead (execution/run-handoff.ts): inserted
// already claimed — 'running', started now, so their created change records 'running' and no
// pending → running change follows — with their jobs locked by that pool, executed after COMMIT
// without the executor's claim; add_jobs (and its NOTIFY, which wakes every worker) gets the rest.
// Each handed run comes back with its row's xmin (this transaction's id): its execution runs it
// as claimed here only while the row is still that version (run-record-batches.ts, OPEN_HANDED).
// Only if the run task is known (graphile-worker registered it) does a run start 'running': a
// job that cannot be inserted leaves its run pending, and add_jobs (which registers the task) enqueues it.
const INSERT_RUNS = `
  WITH task AS (SELECT id FROM graphile_worker._private_tasks WHERE identifier = '${AutomationTask.run}'),
  run AS (
    INSERT INTO automation_runs (id, automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, trigger, verdicts, status, started_at)
    SELECT id, automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, trigger, verdicts, claim.status,
      CASE WHEN claim.status = 'running' THEN clock_timestamp() END
    FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (${RUN_FIELDS})) WITH ORDINALITY AS input
    CROSS JOIN LATERAL (SELECT CASE WHEN input.status = 'pending' AND input.id = ANY($3::uuid[]) AND EXISTS (SELECT 1 FROM task)
      THEN 'running' ELSE input.status END AS status) AS claim
    WHERE automation_id IN (SELECT id FROM automations)
    ORDER BY input.ordinality
    ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING
    RETURNING id, status, created_at, xmin::text AS xmin),
  handed AS (${insertLockedRunJobs("(SELECT id AS run_id FROM run WHERE status = 'running' ORDER BY created_at) AS handed_run", "$2::text")}),
  pending AS (SELECT array_agg(id ORDER BY created_at) AS ids FROM run WHERE status = 'pending')
  SELECT (SELECT coalesce(array_agg(id::text), '{}') FROM run) AS inserted,
    (SELECT CASE WHEN ids IS NULL THEN 0 ELSE (SELECT count(*) FROM ${addRunJobs("ids")}) END FROM pending) AS jobs,
    (SELECT coalesce(json_agg(json_build_object('runId', handed.key, 'jobId', handed.id::text, 'xmin', run.xmin)), '[]')
     FROM handed JOIN run ON run.id::text = handed.key) AS handed`;

const SKIP_FIELDS = `id uuid, automation_id uuid, automation_version integer, trigger_id text, trigger_event text, change_id uuid,
  reason text, detail jsonb, verdicts jsonb`;

const INSERT_SKIPS = `
  INSERT INTO automation_skips (id, automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail, verdicts)
  SELECT id, automation_id, automation_version, trigger_id, trigger_event, change_id, reason, detail, verdicts
  FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (${SKIP_FIELDS})) WITH ORDINALITY AS input
  WHERE automation_id IN (SELECT id FROM automations)
  ORDER BY input.ordinality
  ON CONFLICT (automation_id, trigger_id, change_id) DO NOTHING
  RETURNING id`;

const keyFields = (key: DecisionKey) => ({
  automation_id: key.automationId,
  automation_version: key.automationVersion,
  trigger_id: key.triggerId,
  trigger_event: key.triggerEvent,
  change_id: key.changeId,
});

export interface NewRun {
  /** Chosen by the caller (randomUUID), so a decision can name its run before the insert answers. */
  id: string;
  key: DecisionKey;
  contextKey: string | null;
  trigger: RunTrigger;
  verdicts: readonly Verdict[];
  /** pending: its job is enqueued now (or it is handed over, 'running'); queued: it waits for promotion. */
  status: "pending" | "queued";
  /** The automation's name, for a run handed over (see HandedRun). */
  automationName?: string;
}

/** Pending runs to record already claimed ('running'), their jobs inserted locked by worker pool `workerId` (see INSERT_RUNS). */
export interface LockedJobsRequest {
  workerId: string;
  runIds: readonly string[];
}

/**
 * A run recorded already claimed ('running'), its job locked for this core's worker: what the
 * worker executes, with what the executor's claim would have read of it (but the definition,
 * which the executor has compiled already or reads when it opens the run).
 */
export interface HandedRun {
  runId: string;
  jobId: string;
  /** The run row's xmin as inserted (the router's transaction id): the run is as handed while its row is this version. */
  xmin: string;
  automationId: string;
  /** The automation's name as the router judged it; null: read when the run is opened. */
  automationName: string | null;
  automationVersion: number;
  trigger: RunTrigger;
}

/**
 * Records runs (and the pending runs' jobs) in one statement; a run whose key was decided
 * already, or whose automation is gone, is left out. The ids of the runs recorded, and the
 * jobs inserted locked for `locked` (a subset of its runs).
 */
export async function insertRuns(tx: SqlClient, runs: readonly NewRun[], locked?: LockedJobsRequest): Promise<{ inserted: Set<string>; handed: HandedRun[] }> {
  if (runs.length === 0) return { inserted: new Set(), handed: [] };
  const rows = runs.map((run) => ({
    id: run.id,
    ...keyFields(run.key),
    context_key: run.contextKey,
    trigger: run.trigger,
    verdicts: run.verdicts,
    status: run.status,
  }));
  const result = await tx.query<{ inserted: string[]; handed: Array<Pick<HandedRun, "runId" | "jobId" | "xmin">> }>(INSERT_RUNS, [
    JSON.stringify(rows),
    locked?.workerId ?? null,
    locked?.runIds ?? [],
  ]);
  const byId = new Map(runs.map((run) => [run.id, run]));
  const handed = result.rows[0]!.handed.map(({ runId, jobId, xmin }): HandedRun => {
    const run = byId.get(runId)!;
    return {
      runId,
      jobId,
      xmin,
      automationId: run.key.automationId,
      automationName: run.automationName ?? null,
      automationVersion: run.key.automationVersion,
      trigger: run.trigger,
    };
  });
  return { inserted: new Set(result.rows[0]!.inserted), handed };
}

export interface NewSkip {
  key: DecisionKey;
  reason: SkipReason;
  detail: Record<string, unknown>;
  verdicts: readonly Verdict[];
}

/** Records skips in one statement (in order); for each, whether it was recorded (not decided already, automation still there). */
export async function insertSkips(tx: SqlClient, skips: readonly NewSkip[]): Promise<boolean[]> {
  if (skips.length === 0) return [];
  const rows = skips.map((skip) => ({ id: randomUUID(), ...keyFields(skip.key), reason: skip.reason, detail: skip.detail, verdicts: skip.verdicts }));
  const result = await tx.query<{ id: string }>(INSERT_SKIPS, [JSON.stringify(rows)]);
  const recorded = new Set(result.rows.map((row) => row.id));
  return rows.map((row) => recorded.has(row.id));
}

/** Records why a trigger did not start a run; a second call for the same key changes nothing. */
export async function insertSkip(
  tx: SqlClient,
  key: DecisionKey,
  reason: SkipReason,
  detail: Record<string, unknown>,
  verdicts: readonly Verdict[] = [],
): Promise<boolean> {
  const [recorded] = await insertSkips(tx, [{ key, reason, detail, verdicts }]);
  return recorded!;
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

/** What a list of automations shows of each one's newest run. */
export interface LastRun {
  id: string;
  status: RunStatus;
  createdAt: string;
  finishedAt: string | null;
}

// Each automation's newest run: one probe of automation_runs_newest per automation asked.
const LAST_RUNS = `
  SELECT asked.id AS automation_id, run.id, run.status, run.created_at, run.finished_at
  FROM unnest($1::uuid[]) AS asked(id)
  CROSS JOIN LATERAL (
    SELECT id, status, created_at, finished_at FROM automation_runs
    WHERE automation_id = asked.id ORDER BY created_at DESC LIMIT 1) AS run`;

/** The newest run of each automation asked, by automation id (absent: it never ran, or its runs were pruned). */
export async function lastRuns(db: pg.Pool | SqlClient, automationIds: readonly string[]): Promise<Map<string, LastRun>> {
  const { rows } = await db.query<{ automation_id: string; id: string; status: RunStatus; created_at: Date; finished_at: Date | null }>(LAST_RUNS, [
    automationIds,
  ]);
  return new Map(
    rows.map((row) => [
      row.automation_id,
      { id: row.id, status: row.status, createdAt: row.created_at.toISOString(), finishedAt: row.finished_at?.toISOString() ?? null },
    ]),
  );
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
