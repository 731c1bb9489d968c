// The automation compiler automation tests share: the satellite triggers and entity kind, as
// the satellites module registers them in a core.
import { type AutomationCompiler, createAutomationCompiler, createTriggerRegistry, type TriggerRegistry } from "../../../src/automations/index.ts";
import type { EntityRegistry } from "../../../src/entities/index.ts";
import type { EvaluationContext } from "../../../src/automations/expressions/evaluate.ts";
import { SATELLITE_CONNECTION_ENTITY_KIND, satelliteConnectionStateSchema, satelliteTriggers } from "../../../src/satellites/index.ts";

export interface SatelliteCompiler {
  /** A fresh registry holding the satellite triggers: a test may register more. */
  triggers: TriggerRegistry;
  compiler: AutomationCompiler;
}

/**
 * A compiler over the satellite triggers and the kinds of `entities` — by default just
 * satellite-connection, for tests with no core (pass the core's registry where there is one).
 */
export function satelliteCompiler(entities: Pick<EntityRegistry, "kinds"> = satelliteKinds): SatelliteCompiler {
  const triggers = createTriggerRegistry(satelliteTriggers);
  return { triggers, compiler: createAutomationCompiler({ triggers, entities }) };
}

const satelliteKinds: Pick<EntityRegistry, "kinds"> = { kinds: () => new Map([[SATELLITE_CONNECTION_ENTITY_KIND, satelliteConnectionStateSchema]]) };

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
