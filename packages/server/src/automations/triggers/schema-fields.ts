// Checks a path's field names against a JSON Schema at save time, so a typo such as
// `trigger.payload.regoin` is an error with the names that do exist, not a silent undefined.
import type { JsonSchema } from "./trigger-registry.ts";

export type FieldLookup = { ok: true; schema: JsonSchema | null } | { ok: false; reason: string };

/** `null` schema: nothing is known (any field is fine from here on). */
export function lookupField(schema: JsonSchema | null, key: string | number): FieldLookup {
  if (schema === null) return { ok: true, schema: null };
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) {
    const found = branches.map((branch) => lookupField(branch, key)).find((lookup) => lookup.ok);
    return found ?? lookupField(branches.find((branch) => branch.type !== "null") ?? null, key);
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties) {
    if (typeof key === "string" && Object.hasOwn(properties, key)) return { ok: true, schema: properties[key]! };
    const extra = schema.additionalProperties;
    if (extra !== undefined && extra !== false) return { ok: true, schema: typeof extra === "object" ? (extra as JsonSchema) : null };
    return { ok: false, reason: `has no field "${key}" (it has: ${Object.keys(properties).sort().join(", ")})` };
  }
  if (schema.type === "array") {
    return typeof key === "number" || key === "length"
      ? { ok: true, schema: typeof key === "number" ? ((schema.items as JsonSchema | undefined) ?? null) : { type: "number" } }
      : { ok: false, reason: `is a list; it has no field "${key}"` };
  }
  if (typeof schema.type === "string" && schema.type !== "object") return { ok: false, reason: `is a ${schema.type}; it has no field "${key}"` };
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") return { ok: true, schema: schema.additionalProperties as JsonSchema };
  return { ok: true, schema: null };
}
