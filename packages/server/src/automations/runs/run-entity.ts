// The automation-run-status entity kind: a run's status as an entity, so its creation and every change
// of its status travel the outbox (the live stream, with its resume semantics, and history).
// Migration 0031's trigger records the changes in the statement that writes the run; this
// defines the kind (for the stream's kind filter and `entity()` conditions) and reads its state
// through the same SQL function the trigger diffs with, so the two can never disagree.
import { canonicalUuid } from "@vantage/protocol";
import type pg from "pg";
import { z } from "zod";
import type { EntityRegistry } from "../../entities/index.ts";
import { RUN_STATUSES } from "./automation-runs.ts";

export const AUTOMATION_RUN_ENTITY_KIND = "automation-run-status";

/**
 * What the run's change rows do not already carry (migration 0036): its automation is the
 * changes' actor id, and its creation, claim and end times are their `occurredAt` (the run's own
 * times are on the run, through the runs API).
 */
export const automationRunStateSchema = z.object({
  status: z.enum(RUN_STATUSES),
  /** The trigger's event id (`manual` for a run started by hand). */
  triggerEvent: z.string(),
  /** The change that fired the trigger; absent for a manual run. */
  triggerChangeId: z.string().optional(),
  error: z.string().optional(),
});

export type AutomationRunState = z.infer<typeof automationRunStateSchema>;

const READ_RUN_STATES = `SELECT id::text, vantage_automation_run_state(r) AS state FROM automation_runs r WHERE id = ANY($1::uuid[])`;

export function defineAutomationRunEntity(entities: Pick<EntityRegistry, "defineEntity">, pool: pg.Pool) {
  return entities.defineEntity({
    kind: AUTOMATION_RUN_ENTITY_KIND,
    schema: automationRunStateSchema,
    read: async (ids, db) => {
      // Run ids are uuids; any other id names no run (and must not fail the cast).
      const runIds = ids.flatMap((id) => canonicalUuid(id) ?? []);
      if (runIds.length === 0) return new Map();
      const { rows } = await (db ?? pool).query<{ id: string; state: AutomationRunState }>({
        name: "vantage_automation_run_states",
        text: READ_RUN_STATES,
        values: [runIds],
      });
      return new Map(rows.map((row) => [row.id, row.state]));
    },
  });
}
