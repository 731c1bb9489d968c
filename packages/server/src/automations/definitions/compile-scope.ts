// What compiling one definition knows and collects: the payload schemas its paths may
// read, the entity kinds entity(...) may name, and every error found so far, by path.
import type { Issue } from "@vantage/protocol";
import {
  ExpressionError,
  type Expression,
  formatExpression,
  parseExpression,
  parseTemplate,
  type Template,
  templateExpressions,
} from "../expressions/index.ts";
import { type FieldLookup, lookupField } from "../triggers/schema-fields.ts";
import type { JsonSchema } from "../triggers/trigger-registry.ts";

export interface CompileScope {
  /** `trigger` as seen by this part of the definition: one schema per trigger it may come from. */
  triggerSchemas: readonly JsonSchema[];
  /** Entity kinds entity(...) may name, with their state's schema (null: unknown shape). */
  entityKinds: ReadonlyMap<string, JsonSchema | null>;
  /** Each at its dotted path into the definition, e.g. `actions.2.delay.duration`. */
  errors: Issue[];
}

/** How `trigger` looks to expressions when it came from a trigger with this payload. */
export function triggerSchemaFor(payloadSchema: JsonSchema | null): JsonSchema {
  return { type: "object", properties: { id: { type: "string" }, event: { type: "string" }, payload: payloadSchema ?? {} } };
}

type Resolved = { ok: true; schemas: Array<JsonSchema | null> } | { ok: false; error: ExpressionError };

/** The schemas an expression may have, or the first path problem in it. */
function resolve(expression: Expression, scope: CompileScope): Resolved {
  switch (expression.type) {
    case "literal":
      return { ok: true, schemas: [null] };
    case "root":
      return { ok: true, schemas: expression.name === "trigger" ? [...scope.triggerSchemas] : [null] };
    case "entity": {
      if (!scope.entityKinds.has(expression.kind)) {
        const known = [...scope.entityKinds.keys()].sort().join(", ") || "none";
        return { ok: false, error: new ExpressionError(expression.kindColumn, `unknown entity kind "${expression.kind}" (known: ${known})`) };
      }
      const id = resolve(expression.id, scope);
      return id.ok ? { ok: true, schemas: [scope.entityKinds.get(expression.kind) ?? null] } : id;
    }
    case "member": {
      const object = resolve(expression.object, scope);
      if (!object.ok) return object;
      const lookups: FieldLookup[] = object.schemas.map((schema) => lookupField(schema, expression.key));
      const found = lookups.flatMap((lookup) => (lookup.ok ? [lookup.schema] : []));
      if (found.length > 0) return { ok: true, schemas: found };
      const reason = lookups.find((lookup): lookup is Extract<FieldLookup, { ok: false }> => !lookup.ok)!.reason;
      return { ok: false, error: new ExpressionError(expression.column, `${formatExpression(expression.object)} ${reason}`) };
    }
  }
}

function recordExpressionError(error: unknown, path: string, scope: CompileScope): null {
  if (!(error instanceof ExpressionError)) throw error;
  scope.errors.push({ path, message: error.message });
  return null;
}

/** Parses and checks an expression; on a problem records it at `path` and returns null. */
export function compileExpression(source: string, path: string, scope: CompileScope): Expression | null {
  try {
    const expression = parseExpression(source);
    const resolved = resolve(expression, scope);
    if (!resolved.ok) throw resolved.error;
    return expression;
  } catch (error) {
    return recordExpressionError(error, path, scope);
  }
}

/** Parses a template and checks each of its expressions; null (recorded) on a problem. */
export function compileTemplate(source: string, path: string, scope: CompileScope): Template | null {
  try {
    const template = parseTemplate(source);
    for (const { expression, column } of templateExpressions(template)) {
      const resolved = resolve(expression, scope);
      // Columns inside a hole count from the hole: shift them to the whole template.
      if (!resolved.ok) throw new ExpressionError(column - 1 + resolved.error.column, resolved.error.reason);
    }
    return template;
  } catch (error) {
    return recordExpressionError(error, path, scope);
  }
}
