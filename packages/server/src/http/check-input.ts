// The bounds every parsed request body and query string must keep before any schema (or
// other recursive code) sees it: nesting depth, number of values, and the safe text rule.
import { type Issue, issueAt, unsafeTextReason } from "@vantage/protocol";

/** The deepest nesting of objects and arrays a request may hold: `[[1]]` is two levels. */
export const MAX_INPUT_DEPTH = 64;
/** The most values (objects, arrays, scalars, counted once each) a request may hold. */
export const MAX_INPUT_NODES = 10_000;

/** What breaking each bound says, after the path or the thing that breaks it. */
export const LIMIT_BROKEN = {
  depth: `is nested deeper than ${MAX_INPUT_DEPTH} levels`,
  values: `holds more than ${MAX_INPUT_NODES} values`,
} as const;

// A value still to look at, with the way back to the root (paths are built only for an issue).
interface Pending {
  value: unknown;
  /** Its key in the parent: a field name, or an array index as a number. */
  key: string | number;
  parent: Pending | undefined;
  depth: number;
}

function pathOf(entry: Pending | undefined, key?: string | number): Array<string | number> {
  const keys = key === undefined ? [] : [key];
  for (let at = entry; at?.parent; at = at.parent) keys.push(at.key);
  return keys.reverse();
}

/**
 * The first place, in document order, where `input` breaks a bound, or undefined. Iterative,
 * so a value nested any depth (or circular, as YAML aliases can make it) costs no stack.
 */
export function checkInput(input: unknown, what: "body" | "query"): Issue | undefined {
  const pending: Pending[] = [{ value: input, key: "", parent: undefined, depth: 0 }];
  for (let values = 1; pending.length > 0; values++) {
    if (values > MAX_INPUT_NODES) return { path: "", message: `the ${what} ${LIMIT_BROKEN.values}` };
    const entry = pending.pop()!;
    if (typeof entry.value === "string") {
      const reason = unsafeTextReason(entry.value);
      if (reason !== undefined) return issueAt(pathOf(entry), reason, { root: `the ${what}` });
    } else if (typeof entry.value === "object" && entry.value !== null) {
      if (entry.depth === MAX_INPUT_DEPTH) return issueAt(pathOf(entry), LIMIT_BROKEN.depth, { root: `the ${what}` });
      const issue = pushChildren(entry, entry.value, pending);
      if (issue) return issue;
    }
  }
  return undefined;
}

/** Queues the entries of an object or array (last first, so they pop in order); a bad key is an issue at once. */
function pushChildren(parent: Pending, container: object, pending: Pending[]): Issue | undefined {
  const entries: Array<[string | number, unknown]> = Array.isArray(container) ? container.map((item, index) => [index, item]) : Object.entries(container);
  for (const [key] of entries) {
    const reason = typeof key === "string" ? unsafeTextReason(key) : undefined;
    if (reason !== undefined) return issueAt(pathOf(parent, key), `its name ${reason}`);
  }
  for (let index = entries.length - 1; index >= 0; index--) {
    const [key, value] = entries[index]!;
    pending.push({ value, key, parent, depth: parent.depth + 1 });
  }
  return undefined;
}
