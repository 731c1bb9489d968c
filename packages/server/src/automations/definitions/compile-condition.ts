// Compiles a condition config once into a checker `(context) => Promise<boolean>`, the
// Home Assistant way: parsing, path checks, regexes and time zones are settled at save time.
import {
  type CompareOp,
  type CompareSpec,
  compileUserRegex,
  type Condition,
  type JsonValue,
  type Operand,
  type TimeWindow,
  type Weekday,
} from "@vantage/protocol";
import { canonicalJson } from "../../entities/index.ts";
import { type CompileScope, compileExpression } from "./compile-scope.ts";
import { evaluate, type EvaluationContext, parseExpression } from "../expressions/index.ts";

export type ConditionChecker = (context: EvaluationContext) => Promise<boolean>;

type ValueOf = (context: EvaluationContext) => Promise<unknown>;

const always: ConditionChecker = async () => true;

const equal = (left: unknown, right: unknown) =>
  left === right || (typeof left === "object" && typeof right === "object" && canonicalJson(left) === canonicalJson(right));
const ordered = (left: unknown, right: unknown): left is number | string =>
  (typeof left === "number" && typeof right === "number") || (typeof left === "string" && typeof right === "string");
const includes = (container: unknown, item: unknown) =>
  Array.isArray(container)
    ? container.some((element) => equal(element, item))
    : typeof container === "string" && typeof item === "string" && container.includes(item);

/** Dispatch table of comparisons. Mismatched types compare false, never throw. */
const COMPARE: Record<Exclude<CompareOp, "matches">, (left: unknown, right: unknown) => boolean> = {
  "==": equal,
  "!=": (left, right) => !equal(left, right),
  "<": (left, right) => ordered(left, right) && left < (right as typeof left),
  "<=": (left, right) => ordered(left, right) && left <= (right as typeof left),
  ">": (left, right) => ordered(left, right) && left > (right as typeof left),
  ">=": (left, right) => ordered(left, right) && left >= (right as typeof left),
  in: (left, right) => includes(right, left),
  contains: (left, right) => includes(left, right),
};

/** A literal operand's value, or undefined when the operand is an expression. */
function literalOf(operand: Operand): { value: JsonValue } | undefined {
  if (typeof operand === "string") return undefined;
  if (operand !== null && typeof operand === "object" && !Array.isArray(operand)) return { value: operand.value };
  return { value: operand };
}

function compileOperand(operand: Operand, path: string, scope: CompileScope): ValueOf {
  const literal = literalOf(operand);
  if (literal) return async () => literal.value;
  const expression = compileExpression(operand as string, path, scope);
  if (expression === null) return async () => undefined;
  if (expression.type === "literal") return async () => expression.value;
  return (context) => evaluate(expression, context);
}

/** The literal string an operand stands for, whether written `{ value }` or `'quoted'`. */
function literalString(operand: Operand): string | undefined {
  const literal = literalOf(operand);
  if (literal) return typeof literal.value === "string" ? literal.value : undefined;
  try {
    const expression = parseExpression(operand as string);
    return expression.type === "literal" && typeof expression.value === "string" ? expression.value : undefined;
  } catch {
    return undefined; // Not even an expression: reported as "needs a literal pattern".
  }
}

function compileMatches(spec: CompareSpec, path: string, left: ValueOf, scope: CompileScope): ConditionChecker {
  const pattern = literalString(spec.right);
  if (pattern === undefined) {
    scope.errors.push({ path: `${path}.right`, message: "matches needs a literal pattern, e.g. '^eu-' or { value: \"^eu-\" }" });
    return always;
  }
  // RE2: linear time whatever the pattern and the value, so a filter cannot freeze the core.
  const compiled = compileUserRegex(pattern);
  if (!compiled.ok) {
    scope.errors.push({ path: `${path}.right`, message: compiled.message });
    return always;
  }
  const { regex } = compiled;
  return async (context) => {
    const value = await left(context);
    return typeof value === "string" && regex.test(value);
  };
}

function compileCompare(spec: CompareSpec, path: string, scope: CompileScope): ConditionChecker {
  const left = compileOperand(spec.left, `${path}.left`, scope);
  if (spec.op === "matches") return compileMatches(spec, path, left, scope);
  const right = compileOperand(spec.right, `${path}.right`, scope);
  const compare = COMPARE[spec.op];
  return async (context) => compare(await left(context), await right(context));
}

const secondsOfDay = (time: string) => {
  const [hours = 0, minutes = 0, seconds = 0] = time.split(":").map(Number);
  return hours * 3600 + minutes * 60 + seconds;
};

function compileTime(window: TimeWindow): ConditionChecker {
  // Validated by the schema; one formatter per condition, built here and reused per run.
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: window.timezone ?? "UTC",
    hourCycle: "h23",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const after = window.after === undefined ? undefined : secondsOfDay(window.after);
  const before = window.before === undefined ? undefined : secondsOfDay(window.before);
  const weekdays = window.weekdays ? new Set<string>(window.weekdays) : undefined;
  return async (context) => {
    const parts = Object.fromEntries(format.formatToParts(context.now).map((part) => [part.type, part.value]));
    if (weekdays && !weekdays.has(parts.weekday!.toLowerCase() as Weekday)) return false;
    const now = secondsOfDay(`${parts.hour}:${parts.minute}:${parts.second}`);
    // after > before is a window across midnight, e.g. 22:00–06:00.
    if (after !== undefined && before !== undefined && after > before) return now >= after || now < before;
    return (after === undefined || now >= after) && (before === undefined || now < before);
  };
}

/** All must hold; stops at the first that does not. */
export function allOf(checkers: readonly ConditionChecker[]): ConditionChecker {
  if (checkers.length === 0) return always;
  return async (context) => {
    for (const check of checkers) if (!(await check(context))) return false;
    return true;
  };
}

function anyOf(checkers: readonly ConditionChecker[]): ConditionChecker {
  return async (context) => {
    for (const check of checkers) if (await check(context)) return true;
    return false;
  };
}

export function compileCondition(condition: Condition, path: string, scope: CompileScope): ConditionChecker {
  if ("and" in condition) return allOf(compileConditions(condition.and, `${path}.and`, scope));
  if ("or" in condition) return anyOf(compileConditions(condition.or, `${path}.or`, scope));
  if ("not" in condition) {
    const inner = compileCondition(condition.not, `${path}.not`, scope);
    return async (context) => !(await inner(context));
  }
  if ("compare" in condition) return compileCompare(condition.compare, `${path}.compare`, scope);
  return compileTime(condition.time);
}

export function compileConditions(conditions: readonly Condition[], path: string, scope: CompileScope): ConditionChecker[] {
  return conditions.map((condition, index) => compileCondition(condition, `${path}.${index}`, scope));
}
