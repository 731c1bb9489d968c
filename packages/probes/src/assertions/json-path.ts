// Our own JSON path subset (protocol's JSON_PATH_PATTERN): `$`, then `.name`, `[index]` or
// `["any key"]` steps. Nothing is evaluated — no filters, no scripts, no recursion — so a
// path from a user can only ever read a value, never run anything (the jsonpath libraries'
// filter evaluation has been an RCE more than once).

export type JsonPathStep = { key: string } | { index: number };

// One step at a time, anchored where the previous one ended.
const STEP = /\.([A-Za-z_$][\w$-]*)|\[(\d{1,6})\]|\["((?:[^"\\]|\\.)*)"\]/y;

/** The steps of a path, or undefined when it is not one (the schema refuses those, so only a bug gets here). */
export function parseJsonPath(path: string): JsonPathStep[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const steps: JsonPathStep[] = [];
  STEP.lastIndex = 1;
  while (STEP.lastIndex < path.length) {
    const start = STEP.lastIndex;
    const match = STEP.exec(path);
    if (!match || match.index !== start) return undefined;
    if (match[1] !== undefined) steps.push({ key: match[1] });
    else if (match[2] !== undefined) steps.push({ index: Number(match[2]) });
    else steps.push({ key: JSON.parse(`"${match[3]}"`) as string });
  }
  return steps;
}

/** The value at `steps` in `document`, or undefined when the path leads nowhere (a JSON `null` is a value). */
export function readJsonPath(document: unknown, steps: readonly JsonPathStep[]): unknown {
  let value = document;
  for (const step of steps) {
    if ("index" in step) {
      if (!Array.isArray(value) || step.index >= value.length) return undefined;
      value = value[step.index];
    } else {
      // Own keys only: `constructor` or `__proto__` of a parsed object is not in the document.
      if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, step.key)) return undefined;
      value = (value as Record<string, unknown>)[step.key];
    }
  }
  return value;
}
