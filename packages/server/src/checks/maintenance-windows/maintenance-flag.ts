// The check-health entity's `maintenance` flag, kept equal to "an occurrence of a window that
// selects the check is active now": one SQL predicate that health evaluations read, and the
// sync that flips the flag (recorded as entity changes) when windows start, end or are edited.
import { type EntityChanged, SYSTEM_ACTOR } from "@vantage/protocol";
import type { EntityHandle, SqlClient } from "../../entities/index.ts";
import type { CheckHealthState } from "../health/check-health-entity.ts";
import { lockChecks } from "../health/check-locks.ts";

/**
 * SQL: whether the check `check` (an alias of `checks`) is in maintenance at `now` (a
 * timestamptz expression). Served by the windows' occurrence index; the table is small.
 */
export const inMaintenanceSql = (check: string, now: string): string =>
  `EXISTS (SELECT 1 FROM maintenance_windows w WHERE w.occurrence_end > ${now} AND w.occurrence_start <= ${now}
     AND (${check}.id = ANY (w.check_ids) OR ${check}.labels @> w.labels))`;

/** What a window selects, and which window it is (the cause of the flips it leads to). */
export interface WindowSelection {
  windowId: string;
  checkIds: readonly string[];
  labels: Record<string, string> | null;
}

// The checks these selections name (by id, then by labels through the labels index) whose
// flag is not what the windows say now; each with one window that named it.
const FLAGS_TO_FLIP = `
  WITH selection AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS s(window_id uuid, check_ids uuid[], labels jsonb)
  ), named AS (
    SELECT c.id, s.window_id FROM selection s JOIN checks c ON c.id = ANY (s.check_ids)
    UNION ALL
    SELECT c.id, s.window_id FROM selection s JOIN checks c ON s.labels IS NOT NULL AND c.labels @> s.labels
  )
  SELECT DISTINCT ON (c.id) c.id::text AS check_id, n.window_id::text AS window_id
  FROM named n JOIN checks c ON c.id = n.id JOIN check_health h ON h.check_id = c.id
  WHERE h.maintenance <> ${inMaintenanceSql("c", "$2::timestamptz")}
  ORDER BY c.id`;

// Under the entities' locks: decided again inside the mutation, so a racing write cannot leave it wrong.
const SET_FLAGS = `
  UPDATE check_health h SET maintenance = ${inMaintenanceSql("c", "$2::timestamptz")}
  FROM checks c WHERE c.id = h.check_id AND h.check_id = ANY ($1::uuid[])`;

/** The cause of a flag flip: the window that started, ended or was edited. */
export const MAINTENANCE_WINDOW_CAUSE = "maintenance-window";

/**
 * Flips the flag of every evaluated check these selections name whose flag is not what the
 * active windows say at `now`, in the caller's transaction; returns the recorded changes to
 * announce once it committed. A check never evaluated has no state: its first evaluation
 * reads the windows itself.
 */
export async function syncMaintenanceFlags(
  tx: SqlClient,
  health: Pick<EntityHandle<CheckHealthState>, "mutateMany">,
  selections: readonly WindowSelection[],
  now: number,
): Promise<EntityChanged[]> {
  if (selections.length === 0) return [];
  const at = new Date(now).toISOString();
  const rows = selections.map((selection) => ({ window_id: selection.windowId, check_ids: selection.checkIds, labels: selection.labels }));
  const { rows: flips } = await tx.query<{ check_id: string; window_id: string }>({
    name: "vantage_maintenance_flags_to_flip",
    text: FLAGS_TO_FLIP,
    values: [JSON.stringify(rows), at],
  });
  if (flips.length === 0) return [];
  const windowOf = new Map(flips.map((flip) => [flip.check_id, flip.window_id]));
  // The checks' rows first, as every evaluation of their health takes them: a batch of results
  // evaluating one of them meanwhile is waited for, never overwritten with a flag read before it.
  await lockChecks(tx, [...windowOf.keys()]);
  const recorded = await health.mutateMany({
    ids: [...windowOf.keys()],
    actor: SYSTEM_ACTOR,
    cause: (id) => ({ type: MAINTENANCE_WINDOW_CAUSE, id: windowOf.get(id)! }),
    tx,
    apply: (client, ids) => client.query({ name: "vantage_maintenance_set_flags", text: SET_FLAGS, values: [ids, at] }),
  });
  return recorded.flatMap((result) => (result.change ? [result.change] : []));
}
