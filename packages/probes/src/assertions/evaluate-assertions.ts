// The one assertion evaluator: walks a check's condition tree (and, or, not over leaves) against
// what a probe observed, and records every leaf's verdict — where it sits, what it expected,
// what it saw — so a user sees why a run failed, not only that it did. Every leaf is
// evaluated (no short-circuit): a verdict list with holes would hide the second problem.
import {
  type Assertion,
  type AssertionNode,
  type AssertionOnFail,
  type AssertionVerdict,
  compileUserRegex,
  MAX_VERDICT_VALUE_LENGTH,
  parseSubject,
  type UserRegex,
} from "@vantage/protocol";
import { compare } from "./compare.ts";

/** What a probe saw for a subject (`status`, `json:$.a`, `header:etag` …); undefined when absent. */
export type Observe = (subject: string) => unknown;

/** A top-level assertion that failed: its place, what its failure means, and why, in one line. */
export interface AssertionFailure {
  path: string;
  onFail: AssertionOnFail;
  description: string;
}

export interface AssertionsOutcome {
  /** One per leaf, in tree order. */
  verdicts: AssertionVerdict[];
  failures: AssertionFailure[];
}

/** Subjects whose value is a list: an op passes when some element passes. */
const LIST_SUBJECTS = new Set(["answers", "sans"]);

// Patterns were validated with the definition; compiling each once per process keeps a check
// that runs every 10 s from paying for it every run. Bounded: a flood of distinct patterns
// only costs recompiling.
const MAX_CACHED_PATTERNS = 1_000;
const compiledPatterns = new Map<string, UserRegex | undefined>();
function patternOf(source: string): UserRegex | undefined {
  if (compiledPatterns.has(source)) return compiledPatterns.get(source);
  if (compiledPatterns.size >= MAX_CACHED_PATTERNS) compiledPatterns.clear();
  const compiled = compileUserRegex(source);
  const regex = compiled.ok ? compiled.regex : undefined;
  compiledPatterns.set(source, regex);
  return regex;
}

/** A value as a verdict carries it: scalars as they are, anything longer than the limit cut to text with an ellipsis. */
export function boundedValue(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value.length > MAX_VERDICT_VALUE_LENGTH ? `${value.slice(0, MAX_VERDICT_VALUE_LENGTH - 1)}…` : value;
  if (typeof value !== "object" || value === null) return value;
  const text = JSON.stringify(value);
  return text.length > MAX_VERDICT_VALUE_LENGTH ? `${text.slice(0, MAX_VERDICT_VALUE_LENGTH - 1)}…` : value;
}

const shown = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(boundedValue(value)));

interface Evaluated {
  pass: boolean;
  /** Why the node did not hold, for the reason line (only read when it failed). */
  why: () => string;
}

export function evaluateAssertions(assertions: readonly Assertion[], observe: Observe): AssertionsOutcome {
  // Most checks assert nothing beyond their status: no closures for them (one run each).
  if (assertions.length === 0) return { verdicts: [], failures: [] };
  const observed = new Map<string, unknown>();
  const see = (subject: string) => {
    if (!observed.has(subject)) observed.set(subject, observe(subject));
    return observed.get(subject);
  };
  const verdicts: AssertionVerdict[] = [];
  const failures: AssertionFailure[] = [];

  const visit = (node: AssertionNode, path: string, onFail: AssertionOnFail): Evaluated => {
    if ("subject" in node) {
      const actual = see(node.subject);
      const list = LIST_SUBJECTS.has(parseSubject(node.subject).name);
      const pass = compare(node, actual, list, node.op === "matches" ? patternOf(node.value) : undefined);
      const expected = node.op === "exists" ? undefined : boundedValue(node.value);
      verdicts.push({ path, subject: node.subject, op: node.op, expected, ...(actual === undefined ? {} : { actual: boundedValue(actual) }), pass, onFail });
      return { pass, why: () => `expected ${node.subject} ${node.op}${node.op === "exists" ? "" : ` ${JSON.stringify(expected)}`}, got ${shown(actual)}` };
    }
    if (node.op === "not") {
      const inner = visit(node.of, `${path}.of`, onFail);
      return { pass: !inner.pass, why: () => `${path}.of should not hold, but it did` };
    }
    const children = node.of.map((child, index) => visit(child, `${path}.of[${index}]`, onFail));
    const failed = children.filter((child) => !child.pass);
    if (node.op === "and") return { pass: failed.length === 0, why: () => failed[0]!.why() };
    return { pass: failed.length < children.length, why: () => `none held: ${failed.map((child) => child.why()).join("; ")}` };
  };

  assertions.forEach((assertion, index) => {
    const path = `assertions[${index}]`;
    const result = visit(assertion, path, assertion.onFail);
    if (!result.pass) failures.push({ path, onFail: assertion.onFail, description: `${path} failed: ${result.why()}` });
  });
  return { verdicts, failures };
}

/** The subject names (`status`, `json`, `header` …) a list of assertions looks at: what a probe must observe. */
export function subjectNames(assertions: readonly AssertionNode[]): Set<string> {
  const names = new Set<string>();
  if (assertions.length === 0) return names;
  const visit = (node: AssertionNode) => {
    if ("subject" in node) names.add(parseSubject(node.subject).name);
    else if (node.op === "not") visit(node.of);
    else node.of.forEach(visit);
  };
  assertions.forEach(visit);
  return names;
}
