// What a module declares for each trigger it offers automations: the event id its change
// deriver emits, how the UI names it, and the payload an automation receives.
import type { z } from "zod";

/**
 * Why a module silences an event it fired: the check was flapping, or inside a maintenance
 * window. Each automation listening records a skip with this reason instead of a run.
 */
export const SUPPRESSION_REASONS = ["flapping", "maintenance"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface TriggerDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Qualified event id `<module>.<trigger>`, exactly what the module's change deriver emits. */
  id: string;
  displayName: string;
  description: string;
  /** The payload's shape: what conditions and actions may refer to. */
  payloadSchema: Schema;
  /**
   * The thing the payload is about (a satellite id, a check id): automations with
   * `concurrency: context` serialize their runs per key.
   */
  contextKey: (payload: z.infer<Schema>) => string;
  /**
   * Whether an entity in this state still matches the trigger, for `for:`: a later change of
   * the entity cancels a pending timer when this turns false. Absent: any later change that
   * emits events, none of them this one, cancels it.
   */
  stillMatches?: (state: Readonly<Record<string, unknown>>) => boolean;
  /**
   * Whether the module silences this event (null: it does not). A silenced event still
   * reaches every listening automation, which records a skip with the reason, so "why was I
   * not paged?" has an answer; it starts no run and no `for:` timer.
   */
  suppressed?: (payload: z.infer<Schema>) => SuppressionReason | null;
}

/** Identity, but infers `Schema` so `contextKey` sees the payload's type. */
export function defineTrigger<Schema extends z.ZodType>(definition: TriggerDefinition<Schema>): TriggerDefinition<Schema> {
  return definition;
}
