// What an entity change caused in the automation engine: the runs it started and the skips it
// recorded (each keyed by the change that fired its trigger), for "why did this happen" reads.
import type { SqlClient } from "../../entities/index.ts";

// Both served by the partial indexes automation_{runs,skips}_by_change (migration 0017).
export const RUNS_OF_CHANGES = `
  SELECT change_id, id, automation_id, trigger_id, trigger_event, status, created_at
  FROM automation_runs WHERE change_id = ANY($1::uuid[]) ORDER BY created_at, id`;
export const SKIPS_OF_CHANGES = `
  SELECT change_id, id, automation_id, trigger_id, trigger_event, reason, created_at
  FROM automation_skips WHERE change_id = ANY($1::uuid[]) ORDER BY created_at, id`;

export interface CausedRun {
  id: string;
  automationId: string;
  triggerId: string;
  event: string;
  status: string;
  createdAt: string;
}

export interface CausedSkip {
  id: string;
  automationId: string;
  triggerId: string;
  event: string;
  reason: string;
  createdAt: string;
}

export interface ChangeConsequences {
  runs: CausedRun[];
  skips: CausedSkip[];
}

interface LinkRow {
  change_id: string;
  id: string;
  automation_id: string;
  trigger_id: string;
  trigger_event: string;
  created_at: Date;
}

/** The runs and skips each change caused, by change id (every id given has an entry). Two queries for any number of changes. */
export async function consequencesOfChanges(db: SqlClient, changeIds: readonly string[]): Promise<Map<string, ChangeConsequences>> {
  const byChange = new Map<string, ChangeConsequences>(changeIds.map((id) => [id, { runs: [], skips: [] }]));
  if (changeIds.length === 0) return byChange;
  const [runs, skips] = await Promise.all([
    db.query<LinkRow & { status: string }>({ name: "vantage_runs_of_changes", text: RUNS_OF_CHANGES, values: [changeIds] }),
    db.query<LinkRow & { reason: string }>({ name: "vantage_skips_of_changes", text: SKIPS_OF_CHANGES, values: [changeIds] }),
  ]);
  const base = (row: LinkRow) => ({
    id: row.id,
    automationId: row.automation_id,
    triggerId: row.trigger_id,
    event: row.trigger_event,
    createdAt: row.created_at.toISOString(),
  });
  for (const row of runs.rows) byChange.get(row.change_id)?.runs.push({ ...base(row), status: row.status });
  for (const row of skips.rows) byChange.get(row.change_id)?.skips.push({ ...base(row), reason: row.reason });
  return byChange;
}

// The other direction: what a run's steps changed, and the run behind a change. A step that
// writes entity state records `{ type: "automation-run", id: <run id> }` as the change's cause.
const RUN_CAUSE = "automation-run";

/** The changes a run's steps made, newest first (entity_changes_by_cause), at most $2. */
export const CHANGES_OF_RUN = `
  SELECT seq, change_id, kind, entity_id, changed_fields, occurred_at FROM entity_changes
  WHERE cause IS NOT NULL AND cause ->> 'type' = '${RUN_CAUSE}' AND cause ->> 'id' = $1
  ORDER BY seq DESC LIMIT $2`;

/** The runs named by change causes (their primary key). */
export const RUNS_BY_ID = "SELECT id, automation_id, status FROM automation_runs WHERE id = ANY($1::uuid[])";

/** A change a run's step made, in brief (the whole change: GET /api/v1/changes/caused-by/automation-run/:id). */
export interface RunChange {
  seq: number;
  changeId: string;
  kind: string;
  id: string;
  changedFields: string[];
  occurredAt: string;
}

/** The run behind a change whose cause is an automation run: enough to open its trace. */
export interface CausingRun {
  id: string;
  automationId: string;
  status: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The newest `limit` changes the run's steps made, newest first. */
export async function changesOfRun(db: SqlClient, runId: string, limit: number): Promise<RunChange[]> {
  const { rows } = await db.query<{ seq: string; change_id: string; kind: string; entity_id: string; changed_fields: string[]; occurred_at: Date }>({
    name: "vantage_changes_of_run",
    text: CHANGES_OF_RUN,
    values: [runId, limit],
  });
  return rows.map((row) => ({
    seq: Number(row.seq),
    changeId: row.change_id,
    kind: row.kind,
    id: row.entity_id,
    changedFields: row.changed_fields,
    occurredAt: row.occurred_at.toISOString(),
  }));
}

/** The run each cause names, by run id, for causes of type automation-run (one query for a page). */
export async function runsOfCauses(db: SqlClient, causes: ReadonlyArray<{ type: string; id: string } | null | undefined>): Promise<Map<string, CausingRun>> {
  const ids = [...new Set(causes.flatMap((cause) => (cause?.type === RUN_CAUSE && UUID.test(cause.id) ? [cause.id] : [])))];
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; automation_id: string; status: string }>({ name: "vantage_runs_by_id", text: RUNS_BY_ID, values: [ids] });
  return new Map(rows.map((row) => [row.id, { id: row.id, automationId: row.automation_id, status: row.status }]));
}
