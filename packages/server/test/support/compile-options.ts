// The compile options automation tests share: the satellite triggers and entity kind, as
// the core registers them.
import { createTriggerRegistry } from "../../src/automations/index.ts";
import type { CompileOptions } from "../../src/automations/definitions/compile-automation.ts";
import type { EvaluationContext } from "../../src/automations/expressions/evaluate.ts";
import { SATELLITE_CONNECTION_ENTITY_KIND, satelliteConnectionStateSchema, satelliteTriggers } from "../../src/satellites/index.ts";

export function satelliteCompileOptions(): CompileOptions {
  return { triggers: createTriggerRegistry(satelliteTriggers), entityKinds: { [SATELLITE_CONNECTION_ENTITY_KIND]: satelliteConnectionStateSchema } };
}

export const LOST_PAYLOAD = { satelliteId: "sat-1", name: "edge-1", region: "eu-west", status: "offline", lastSeenAt: "2026-01-05T10:00:00.000Z" };

/** A run context for `satellite.heartbeat_lost` of sat-1, with entity states by `kind:id`. */
export function contextOf(overrides: Partial<EvaluationContext> & { states?: Record<string, Record<string, unknown>> } = {}): EvaluationContext {
  const { states = {}, ...rest } = overrides;
  return {
    trigger: { id: "lost", event: "satellite.heartbeat_lost", payload: LOST_PAYLOAD },
    vars: {},
    entity: async (kind, id) => states[`${kind}:${id}`] ?? null,
    now: Date.parse("2026-01-05T10:00:00.000Z"),
    ...rest,
  };
}
