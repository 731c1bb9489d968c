// The change event of a reactive entity: one committed row of the outbox, carrying
// the state before and after, the fields that differ, who did it and what led to it.
import { z } from "zod";
import { actorSchema } from "./actor.ts";
import { uuidSchema } from "./uuid.ts";

/** A link to what led to a change: an automation run, a check run, an API request. */
export const causeSchema = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  /** config.apply: the commit the applied bundle came from. */
  commit: z.string().optional(),
});

/**
 * Cause types writers record today or are reserved for the writers to come, so readers (the
 * history API, the UI) can link a change to what led to it. `automation-run`: a run's step
 * (its id is the run's); `api-request`: an API call (its id is the request id); `config.apply`:
 * an apply of a config bundle (its id is the apply's, `commit` the bundle's commit when given).
 */
export const CAUSE_TYPES = Object.freeze({ automationRun: "automation-run", apiRequest: "api-request", configApply: "config.apply" } as const);

const entityStateSchema = z.record(z.string(), z.unknown());

export const entityChangedSchema = z.object({
  /** Outbox position; absent on hand-built changes (tests, previews). */
  seq: z.number().int().positive().optional(),
  /** Stable id of the change; consumers deduplicate redeliveries by it. */
  changeId: uuidSchema().optional(),
  kind: z.string().min(1),
  id: z.string().min(1),
  /** State before the change; null when the change created the entity. */
  prev: entityStateSchema.nullable(),
  /** State after the change; null for a tombstone (the entity was removed). */
  next: entityStateSchema.nullable(),
  /** For each changed top-level field, its new value (null when removed). */
  delta: entityStateSchema,
  /** Sorted top-level field names whose values differ between prev and next. */
  changedFields: z.array(z.string()),
  actor: actorSchema,
  cause: causeSchema.nullable().optional(),
  /** ISO-8601 timestamp of the commit's transaction. */
  occurredAt: z.string(),
});

export type Cause = z.infer<typeof causeSchema>;
export type EntityState = z.infer<typeof entityStateSchema>;
export type EntityChanged = z.infer<typeof entityChangedSchema>;
