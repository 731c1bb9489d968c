// The one automation compiler of a core instance: compiles definitions against the triggers
// and entity kinds the modules registered. Built once and shared by the index, the API and the
// executor; each kind's state schema becomes JSON Schema once, not once per compile.
import type { EntityRegistry } from "../../entities/index.ts";
import { type JsonSchema, type TriggerRegistry, toOutputJsonSchema } from "../triggers/trigger-registry.ts";
import { type CompileResult, compileAutomation } from "./compile-automation.ts";

export interface AutomationCompiler {
  /** Validates and compiles a definition as submitted (JSON or parsed YAML). */
  compile(input: unknown): CompileResult;
}

export interface AutomationCompilerOptions {
  /** Read at every compile: a trigger registered later is known from then on. */
  triggers: Pick<TriggerRegistry, "payloadJsonSchema" | "list">;
  /** The kinds entity(...) may name, read at every compile like the triggers. */
  entities: Pick<EntityRegistry, "kinds">;
}

export function createAutomationCompiler(options: AutomationCompilerOptions): AutomationCompiler {
  const { triggers, entities } = options;
  // Grows with the registry's kinds, which are never removed: equal sizes mean nothing is new.
  const entityKinds = new Map<string, JsonSchema>();

  const currentEntityKinds = (): ReadonlyMap<string, JsonSchema> => {
    const kinds = entities.kinds();
    if (kinds.size !== entityKinds.size) {
      for (const [kind, schema] of kinds) if (!entityKinds.has(kind)) entityKinds.set(kind, toOutputJsonSchema(schema));
    }
    return entityKinds;
  };

  return { compile: (input) => compileAutomation(input, { triggers, entityKinds: currentEntityKinds() }) };
}
