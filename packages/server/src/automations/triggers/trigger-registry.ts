// The triggers automations may name, registered by the modules that derive them, each
// listed with its payload's JSON Schema. Per core instance, like the entity registry.
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import type { TriggerDefinition } from "./trigger.ts";

export type JsonSchema = Record<string, unknown>;

export interface TriggerInfo {
  id: string;
  displayName: string;
  description: string;
  payloadSchema: JsonSchema;
}

export interface TriggerRegistry {
  /** Adds a trigger; returns its removal. A second trigger with the same id is a conflict. */
  register(definition: TriggerDefinition): () => void;
  get(id: string): TriggerDefinition | undefined;
  /** The trigger's payload as JSON Schema (computed once per trigger). */
  payloadJsonSchema(id: string): JsonSchema | undefined;
  /** Every registered trigger, sorted by id. */
  list(): TriggerInfo[];
}

/** The output JSON Schema of a zod schema: what a value read from it looks like. */
export function toOutputJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as JsonSchema;
}

export function createTriggerRegistry(initial: readonly TriggerDefinition[] = []): TriggerRegistry {
  const triggers = new Map<string, { definition: TriggerDefinition; payloadSchema: JsonSchema }>();

  const registry: TriggerRegistry = {
    register(definition) {
      if (triggers.has(definition.id)) {
        throw new VantageError("conflict", "trigger_exists", `Trigger "${definition.id}" is already registered.`);
      }
      const entry = { definition, payloadSchema: toOutputJsonSchema(definition.payloadSchema) };
      triggers.set(definition.id, entry);
      return () => {
        if (triggers.get(definition.id) === entry) triggers.delete(definition.id);
      };
    },
    get: (id) => triggers.get(id)?.definition,
    payloadJsonSchema: (id) => triggers.get(id)?.payloadSchema,
    list: () =>
      [...triggers.values()]
        .map(({ definition, payloadSchema }) => ({
          id: definition.id,
          displayName: definition.displayName,
          description: definition.description,
          payloadSchema,
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
  };
  for (const definition of initial) registry.register(definition);
  return registry;
}
