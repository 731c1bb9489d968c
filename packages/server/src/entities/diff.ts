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
  return diffCanonical(canonicalize(prev) as CanonicalState | null, canonicalize(next) as CanonicalState | null);
}

/** A state in canonical form (see canonicalize): sorted keys, no null members. */
export type CanonicalState = { [key: string]: Json };

/**
 * The diff of two states already in canonical form: each state is canonicalized once (a
 * mutate records the same canonical prev and next it diffs), not once per field compared.
 */
export function diffCanonical(prev: CanonicalState | null, next: CanonicalState | null): StateDiff {
  const changedFields: string[] = [];
  const delta: Record<string, Json> = {};
  const before = prev ?? {};
  const after = next ?? {};
  for (const field of Object.keys(before)) {
    if (!sameJson(before[field], member(after, field))) changedFields.push(field);
  }
  for (const field of Object.keys(after)) {
    if (!Object.hasOwn(before, field) && !sameJson(null, after[field])) changedFields.push(field);
  }
  changedFields.sort();
  for (const field of changedFields) delta[field] = member(after, field) ?? null;
  return { changedFields, delta };
}

/** A state's own member (a field named like an Object.prototype member is no inherited value). */
function member(state: CanonicalState, field: string): Json | undefined {
  return Object.hasOwn(state, field) ? state[field] : undefined;
}

/** Equal canonical values (absent ≡ null): the same JSON text, not written out for identical primitives. */
function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
