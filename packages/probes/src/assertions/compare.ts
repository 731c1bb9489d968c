// What each leaf op means on what a probe observed. One value is compared as it is, with a
// string and a number (or boolean) equal when they read the same (`header:content-length eq
// 42`); a list subject (DNS answers, certificate SANs) passes when SOME element passes — `ne`
// when NO element equals. An absent subject (no answer at all, a header not sent, a JSON
// path leading nowhere) fails every op but `exists`.
import type { AssertionLeaf, Scalar, UserRegex } from "@vantage/protocol";

/** Whether two values read the same: strictly equal, or a string that spells the number or boolean. */
export function looselyEqual(actual: unknown, expected: Scalar): boolean {
  if (actual === expected) return true;
  if (typeof actual === "string" && (typeof expected === "number" || typeof expected === "boolean")) return sameText(actual, expected);
  if (typeof expected === "string" && (typeof actual === "number" || typeof actual === "boolean")) return sameText(expected, actual);
  return false;
}

function sameText(text: string, value: number | boolean): boolean {
  if (typeof value === "boolean") return text.trim() === String(value);
  const number = asNumber(text);
  return number !== undefined && number === value;
}

/** A number, or a string that is one (`" 42 "`); anything else is not comparable. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

const textOf = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/** One value against one leaf; `regex` is the leaf's compiled pattern for `matches`. */
function holds(leaf: AssertionLeaf, actual: unknown, regex: UserRegex | undefined): boolean {
  switch (leaf.op) {
    case "eq":
      return looselyEqual(actual, leaf.value);
    case "ne":
      return !looselyEqual(actual, leaf.value);
    case "lt":
    case "lte":
    case "gt":
    case "gte": {
      const number = asNumber(actual);
      if (number === undefined) return false;
      return { lt: number < leaf.value, lte: number <= leaf.value, gt: number > leaf.value, gte: number >= leaf.value }[leaf.op];
    }
    case "in":
      return leaf.value.some((candidate) => looselyEqual(actual, candidate));
    case "contains":
      // Text contains a substring; a JSON array an element; a JSON object a key.
      if (Array.isArray(actual)) return actual.some((element) => looselyEqual(element, leaf.value));
      if (actual !== null && typeof actual === "object") return Object.hasOwn(actual, leaf.value);
      return actual !== null && String(actual).includes(leaf.value);
    case "matches":
      return regex !== undefined && regex.test(textOf(actual));
    case "exists":
      return true;
  }
}

/**
 * Whether `actual` satisfies `leaf`. `list` marks a list subject: some element must satisfy
 * it (`ne`: no element may equal), and `exists` means "not empty".
 */
export function compare(leaf: AssertionLeaf, actual: unknown, list: boolean, regex: UserRegex | undefined): boolean {
  if (actual === undefined) return false;
  if (!list || !Array.isArray(actual)) return holds(leaf, actual, regex);
  if (leaf.op === "exists") return actual.length > 0;
  if (leaf.op === "ne") return actual.every((element) => !looselyEqual(element, leaf.value));
  return actual.some((element) => holds(leaf, element, regex));
}
