// The bounds every parsed request body and query string must keep before any schema (or
// other recursive code) sees it: nesting depth, number of values, and the safe text rule.
import { unsafeTextReason } from "@vantage/protocol";
import { VantageError } from "../errors.ts";

/** The deepest nesting of objects and arrays a request may hold: `[[1]]` is two levels. */
export const MAX_INPUT_DEPTH = 64;
/** The most values (objects, arrays, scalars, counted once each) a request may hold. */
export const MAX_INPUT_NODES = 10_000;

export interface InputIssue {
  /** The field, e.g. `offlineThresholdMs` or `tags.2`; empty for the body as a whole. */
  path: string;
  message: string;
}

/** The error of a request body with these issues: 400 invalid_input, listing each. */
export function invalidBody(issues: InputIssue[], cause?: unknown): VantageError {
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  return new VantageError("invalid_input", "invalid_input", `Invalid request body: ${summary}.`, { cause, details: { issues } });
}

/** What breaking each bound says, after the path or the thing that breaks it. */
export const LIMIT_BROKEN = {
  depth: `is nested deeper than ${MAX_INPUT_DEPTH} levels`,
  values: `holds more than ${MAX_INPUT_NODES} values`,
} as const;

// A value still to look at, with the way back to the root (paths are built only for an issue).
interface Pending {
  value: unknown;
  key: string;
  parent: Pending | undefined;
  depth: number;
}

function pathOf(entry: Pending | undefined, key?: string): string {
  const keys = key === undefined ? [] : [key];
  for (let at = entry; at?.parent; at = at.parent) keys.push(at.key);
  return keys.reverse().join(".");
}

/**
 * The first place, in document order, where `input` breaks a bound, or undefined. Iterative,
 * so a value nested any depth (or circular, as YAML aliases can make it) costs no stack.
 */
export function checkInput(input: unknown, what: "body" | "query"): InputIssue | undefined {
  const pending: Pending[] = [{ value: input, key: "", parent: undefined, depth: 0 }];
  for (let values = 1; pending.length > 0; values++) {
    if (values > MAX_INPUT_NODES) return { path: "", message: `the ${what} ${LIMIT_BROKEN.values}` };
    const entry = pending.pop()!;
    if (typeof entry.value === "string") {
      const reason = unsafeTextReason(entry.value);
      if (reason !== undefined) return { path: pathOf(entry), message: reason };
    } else if (typeof entry.value === "object" && entry.value !== null) {
      if (entry.depth === MAX_INPUT_DEPTH) return { path: pathOf(entry), message: LIMIT_BROKEN.depth };
      const issue = pushChildren(entry, entry.value, pending);
      if (issue) return issue;
    }
  }
  return undefined;
}

/** Queues the entries of an object or array (last first, so they pop in order); a bad key is an issue at once. */
function pushChildren(parent: Pending, container: object, pending: Pending[]): InputIssue | undefined {
  const entries: Array<[string, unknown]> = Array.isArray(container) ? container.map((item, index) => [String(index), item]) : Object.entries(container);
  for (const [key] of entries) {
    const reason = unsafeTextReason(key);
    if (reason !== undefined) return { path: pathOf(parent, key), message: `its name ${reason}` };
  }
  for (let index = entries.length - 1; index >= 0; index--) {
    const [key, value] = entries[index]!;
    pending.push({ value, key, parent, depth: parent.depth + 1 });
  }
  return undefined;
}
