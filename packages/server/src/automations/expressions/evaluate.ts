// Evaluates a parsed expression against a run's context. Only own properties of plain
// data are read, so no path can reach a prototype, a function or the process.

import type { Expression } from "./parse-expression.ts";

export interface EvaluationContext {
  trigger: { id?: string; event: string; payload: unknown };
  vars: Readonly<Record<string, unknown>>;
  /** Current state of an entity, or null if it has none. */
  entity(kind: string, id: string): Promise<Readonly<Record<string, unknown>> | null>;
  /** The run's clock, in epoch milliseconds (time conditions read it). */
  now: number;
}

/** Reads `key` of `value` if it is an own data field of an object or array; else undefined. */
export function readField(value: unknown, key: string | number): unknown {
  if (value === null || typeof value !== "object") return undefined;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return undefined;
  if (!Object.hasOwn(value, key)) return undefined;
  const field = (value as Record<string | number, unknown>)[key];
  return typeof field === "function" ? undefined : field;
}

export async function evaluate(expression: Expression, context: EvaluationContext): Promise<unknown> {
  switch (expression.type) {
    case "literal":
      return expression.value;
    case "root":
      return expression.name === "trigger" ? context.trigger : context.vars;
    case "member":
      return readField(await evaluate(expression.object, context), expression.key);
    case "entity": {
      const id = await evaluate(expression.id, context);
      if (typeof id !== "string" && typeof id !== "number") return null;
      return context.entity(expression.kind, String(id));
    }
  }
}
