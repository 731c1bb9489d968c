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
