// The canonical diff of two entity states. Canonical means: object keys sorted,
// undefined ≡ absent ≡ null, Dates as ISO strings. Only top-level fields are reported.
import type { EntityState } from "@vantage/protocol";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON value with sorted keys and no null/undefined object members. */
export function canonicalize(value: unknown): Json {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonicalize);
  if (typeof value === "object") {
    const result: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const member = canonicalize((value as Record<string, unknown>)[key]);
      if (member !== null) result[key] = member;
    }
    return result;
  }
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  // bigint, functions, symbols have no JSON form; states never hold them after schema parsing.
  return String(value);
}

/** Stable JSON text: equal states always produce equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

export interface StateDiff {
  /** Sorted top-level field names whose canonical values differ. */
  changedFields: string[];
  /** For each changed field, its new canonical value (null when removed). */
  delta: Record<string, Json>;
}

export function diffStates(prev: EntityState | null, next: EntityState | null): StateDiff {
  const fields = new Set([...Object.keys(prev ?? {}), ...Object.keys(next ?? {})]);
  const changedFields = [...fields].filter((field) => canonicalJson(prev?.[field]) !== canonicalJson(next?.[field])).sort();
  const delta: Record<string, Json> = {};
  for (const field of changedFields) delta[field] = canonicalize(next?.[field]);
  return { changedFields, delta };
}
