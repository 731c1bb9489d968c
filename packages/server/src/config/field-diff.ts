// A field-level diff of two specs for a plan: the dotted path of every changed leaf (objects are
// walked, arrays compared whole: an assertion list reads better as one change than as shifted
// indexes), with before and after taken from the redacted specs, so no secret is ever shown.
import type { FieldChange } from "@vantage/protocol";
import { canonicalJson } from "../entities/index.ts";

const SECRET = "<secret>";

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function changedPaths(before: unknown, after: unknown, path: string, into: string[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) changedPaths(before[key], after[key], path === "" ? key : `${path}.${key}`, into);
    return;
  }
  if (canonicalJson(before ?? null) !== canonicalJson(after ?? null)) into.push(path);
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path === "" ? [] : path.split(".")) current = isPlainObject(current) ? current[key] : undefined;
  return current;
}

/** What a reader may see at `path`: the redacted value, or `<secret>` where it differs from the real one. */
function shown(full: unknown, redacted: unknown, path: string): unknown {
  const real = valueAt(full, path);
  const safe = valueAt(redacted, path);
  return canonicalJson(real ?? null) === canonicalJson(safe ?? null) ? safe : SECRET;
}

export interface DiffSide {
  /** The spec with secrets in plain text. */
  full: unknown;
  /** The same with secrets `<redacted>`. */
  redacted: unknown;
}

/** The changed fields from `before` to `after` (either side absent: a create or a delete of the whole). */
export function diffFields(before: DiffSide | null, after: DiffSide | null): FieldChange[] {
  const paths: string[] = [];
  changedPaths(before?.full, after?.full, "", paths);
  return paths.map((path) => {
    const change: FieldChange = { path };
    const was = before ? shown(before.full, before.redacted, path) : undefined;
    const will = after ? shown(after.full, after.redacted, path) : undefined;
    if (was !== undefined) change.before = was;
    if (will !== undefined) change.after = will;
    return change;
  });
}
