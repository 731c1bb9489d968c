// Validation problems in one vocabulary for the API, the UI and the agent: an Issue is a field's
// dotted path and what is wrong with it in a user's words ("timeoutMs is required"), never zod's.
import leven from "leven";
import type { z } from "zod";

export interface Issue {
  /** The field, e.g. `offlineThresholdMs`, `tags.2` or `actions.0.webhook.timeoutMs`; empty for the value as a whole. */
  path: string;
  /** What is wrong, as a sentence that reads on its own: `timeoutMs is required`. */
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export interface ValidateOptions {
  /** What the value as a whole is called in a message about it ("the body must be an object"). */
  root?: string;
  /** What its keys are called in a message about an unknown one: "field" (default), "parameter" for a query. */
  keyNoun?: string;
}

/**
 * Parses `input` with `schema`: its value, or every problem as an Issue. Messages a schema
 * states itself are kept; zod's own (`Invalid input`) are replaced by `issueMessage`'s.
 */
export function validateInput<Schema extends z.ZodType>(schema: Schema, input: unknown, options: ValidateOptions = {}): Validated<z.output<Schema>> {
  const parsed = schema.safeParse(input, { error: issueMessage });
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: toIssues(parsed.error, options) };
}

/** The issues of a zod error (best parsed with `{ error: issueMessage }`): one per unknown field, each naming its field. */
export function toIssues(error: z.ZodError, options: ValidateOptions = {}): Issue[] {
  return error.issues.flatMap((issue): Issue[] => {
    if (issue.code === "unrecognized_keys") {
      const known = issue.message.startsWith(KNOWN_FIELDS) ? issue.message.slice(KNOWN_FIELDS.length).split(", ") : undefined;
      return issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: unknownKeyMessage(options.keyNoun ?? "field", key, known) }));
    }
    return [issueAt(issue.path, issue.message, options)];
  });
}

/**
 * What a URL that must be http(s) is told: a value without a scheme (`api.example.com/health`,
 * the commonest slip) gets itself back with one as an example. A template's `{{ … }}` holes
 * count as one word each.
 */
export function httpUrlMessage(input: unknown): string {
  // A long value is not echoed back: the message would be mostly the value.
  const words = typeof input === "string" && input.length <= MAX_ECHOED_LENGTH ? input.replace(/\{\{[\s\S]*?\}\}/g, "x") : "";
  const bare = !words.includes("://") && /^[^\s/?#:]+(?::\d+)?(?:[/?#]\S*)?$/.test(words);
  return `must be an http:// or https:// URL${bare ? ` (e.g. https://${input})` : ""}`;
}

/** `unknown field "interval" (did you mean intervalSeconds? known: name, intervalSeconds, …)`. */
function unknownKeyMessage(noun: string, key: string, known: readonly string[] | undefined): string {
  if (!known) return `unknown ${noun} ${JSON.stringify(key)}`;
  return `unknown ${noun} ${JSON.stringify(key)} (${didYouMean(key, known)}${KNOWN_FIELDS}${known.join(", ")})`;
}

/**
 * "did you mean intervalSeconds? " when one known name stands out (meantName), "" otherwise: the
 * head of a "(… known: …)" list. `show` writes the name as the message quotes names.
 */
export function didYouMean(given: string, known: readonly string[], show: (name: string) => string = (name) => name): string {
  const meant = meantName(given, known);
  return meant === undefined ? "" : `did you mean ${show(meant)}? `;
}

/** Values longer than this are neither echoed in a message nor matched against names. */
const MAX_ECHOED_LENGTH = 200;

/** A field name as people vary it: `expect_status`, `expect-status` and `ExpectStatus` are `expectstatus`. */
const looseName = (name: string): string => name.toLowerCase().replace(/[-_\s]/g, "");

/**
 * The known name (a field, a trigger event, a channel) an unknown one most likely meant, if one
 * stands out: the same name in another case or spelling (`expect_status` → expectStatus), the
 * start of exactly one name, as peers' configs write fields (`interval` → intervalSeconds,
 * `timeout` → timeoutMs), or a typo — a few edits away (`regoin` → region, `check.unhealty` →
 * check.unhealthy), and closer than any other name.
 */
function meantName(key: string, known: readonly string[]): string | undefined {
  // Too short to guess from; too long to be a name (and a bundle may send megabytes of keys).
  if (key.length > MAX_ECHOED_LENGTH) return undefined;
  const loose = looseName(key);
  if (loose.length < 3) return undefined;
  const same = known.find((name) => looseName(name) === loose);
  if (same !== undefined) return same;
  const extended = known.filter((name) => looseName(name).startsWith(loose));
  if (extended.length === 1) return extended[0];
  // Two edits (a swapped pair of letters) from five letters on; one below, where two would reach unrelated names.
  const maxDistance = loose.length >= 5 ? Math.max(2, Math.floor(loose.length / 4)) : 1;
  const ranked = known
    .map((name) => ({ name, other: looseName(name) }))
    // Lengths further apart than the distance allowed cannot be within it.
    .filter(({ other }) => Math.abs(other.length - loose.length) <= maxDistance)
    .map(({ name, other }) => ({ name, distance: leven(loose, other, { maxDistance: maxDistance + 1 }) }))
    .filter(({ distance }) => distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance);
  // Two fields as close as each other: no guess.
  return ranked.length > 0 && ranked[0]!.distance !== ranked[1]?.distance ? ranked[0]!.name : undefined;
}

/**
 * The issue at `path` (keys, array indices as numbers). A message stated as a predicate of the
 * field ("must not be empty") gets the field's name in front ("name must not be empty"); a
 * whole sentence ("an action needs one of: …") is kept as it is.
 */
export function issueAt(path: readonly PropertyKey[], message: string, options: ValidateOptions = {}): Issue {
  return { path: pathOf(path), message: PREDICATE.test(message) ? `${subjectOf(path, options.root ?? "the input")} ${message}` : message };
}

/** The issues in one line for an error message: `name must not be empty; actions.0.webhook.url: url must be …`. */
export function summarizeIssues(issues: readonly Issue[]): string {
  return issues.map(({ path, message }) => (path === "" || message.startsWith(`${path} `) ? message : `${path}: ${message}`)).join("; ");
}

const pathOf = (path: readonly PropertyKey[]): string => path.map(String).join(".");

// Schemas state their own messages as predicates of the field ("must not be empty") or as whole
// sentences ("an action needs one of: …"): a message that starts with one of these verbs is a predicate.
const PREDICATE = /^(?:must|is|are|cannot|needs|has|may)\b/;

/** How a message names the field at `path`: its key (`timeoutMs`), an item with its list (`tags.2`). */
function subjectOf(path: readonly PropertyKey[], root: string): string {
  const last = path.at(-1);
  if (last === undefined) return root;
  if (typeof last === "number") return path.length > 1 ? `${String(path.at(-2))}.${last}` : `item ${last}`;
  return last === "" ? '""' : String(last);
}

// unrecognized_keys: the schema's fields, which toIssues adds to each unknown field's message.
const KNOWN_FIELDS = "known: ";

type RawIssue = z.core.$ZodRawIssue;
type IssueOf<Code extends RawIssue["code"]> = Extract<RawIssue, { code: Code }>;

/**
 * A zod error map (`schema.safeParse(input, { error: issueMessage })`): what is wrong, as a
 * predicate of the field ("is required", "must be one of GET, POST"), for every issue a schema
 * gives no message of its own.
 */
export function issueMessage(issue: RawIssue): string {
  const message = MESSAGES[issue.code] as (issue: RawIssue) => string;
  return message(issue);
}

const MESSAGES: { [Code in RawIssue["code"]]: (issue: IssueOf<Code>) => string } = {
  invalid_type: (issue) => {
    if (issue.input === undefined) return "is required";
    if (issue.expected === "never") return "must not be given";
    const expected = KIND_NAMES[issue.expected] ?? issue.expected;
    const given = kindOf(issue.input);
    // A fraction where a whole number belongs, or NaN (a query's "abc" as a number), says no more.
    const sameKind = given === undefined || given === issue.expected || (given === "number" && (issue.expected === "int" || issue.expected === "bigint"));
    // An object of a few fields says which (`runOn.satellites` given a list of names).
    const fields = issue.expected === "object" ? shapeOf(issue.inst) : undefined;
    const shown = fields && fields.length > 0 && fields.length <= MAX_FIELDS_SHOWN ? `${expected} (fields: ${fields.join(", ")})` : expected;
    return sameKind ? `must be ${shown}` : `must be ${shown}, not ${KIND_NAMES[given] ?? given}`;
  },
  too_small: (issue) => bound(issue.origin, Number(issue.minimum), { exact: issue.exact, inclusive: issue.inclusive ?? true, least: true }),
  too_big: (issue) => bound(issue.origin, Number(issue.maximum), { exact: issue.exact, inclusive: issue.inclusive ?? true, least: false }),
  invalid_format: (issue) => {
    if (issue.format === "regex") return `must match the pattern ${issue.pattern ?? ""}`.trimEnd();
    if (issue.format === "starts_with") return `must start with ${JSON.stringify((issue as { prefix?: string }).prefix ?? "")}`;
    if (issue.format === "ends_with") return `must end with ${JSON.stringify((issue as { suffix?: string }).suffix ?? "")}`;
    if (issue.format === "includes") return `must contain ${JSON.stringify((issue as { includes?: string }).includes ?? "")}`;
    return `must be ${FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`}`;
  },
  not_multiple_of: (issue) => `must be a multiple of ${String(issue.divisor)}`,
  unrecognized_keys: (issue) => {
    const fields = shapeOf(issue.inst);
    return fields ? `${KNOWN_FIELDS}${fields.join(", ")}` : `has unknown fields ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
  },
  invalid_union: (issue) => {
    const { options, discriminator } = issue as { options?: unknown[]; discriminator?: string };
    // A discriminated union's issue carries the whole object: the value given is its discriminator's.
    const given =
      discriminator !== undefined && typeof issue.input === "object" && issue.input !== null
        ? (issue.input as Record<string, unknown>)[discriminator]
        : issue.input;
    if (options && options.length > 0) return `must be one of ${listOf(options)}${caseSlip(given, options)}`;
    return expectedKinds(issue.errors) ?? "matches none of the forms it may take";
  },
  invalid_key: () => "is not an allowed field name",
  invalid_element: () => "has an invalid item",
  invalid_value: (issue) =>
    `${issue.values.length === 1 ? `must be ${show(issue.values[0])}` : `must be one of ${listOf(issue.values)}`}${caseSlip(issue.input, issue.values)}`,
  custom: () => "is invalid",
};

/** The fields of an object schema (the schema an issue was raised by), if it is one. */
const shapeOf = (schema: unknown): string[] | undefined => {
  const shape = (schema as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
};

/** Beyond this many fields, "must be an object" does not list them (a whole request body's). */
const MAX_FIELDS_SHOWN = 8;

/** What a JSON (or YAML) user calls a value of each zod kind. */
const KIND_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  map: "an object",
  array: "an array",
  tuple: "an array",
  set: "an array",
  null: "null",
  date: "a date",
};

const FORMAT_NAMES: Record<string, string> = {
  email: "an email address",
  url: "a URL",
  uuid: "a uuid",
  guid: "a uuid",
  datetime: "an ISO 8601 date and time (e.g. 2025-01-31T12:00:00Z)",
  date: "a date (YYYY-MM-DD)",
  time: "a time of day (HH:MM or HH:MM:SS)",
  duration: "an ISO 8601 duration (e.g. PT5M)",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
  cidrv4: "an IPv4 range (e.g. 10.0.0.0/8)",
  cidrv6: "an IPv6 range (e.g. fd00::/8)",
  base64: "base64 text",
  base64url: "base64url text",
  lowercase: "in lower case",
  uppercase: "in upper case",
};

/** The kind of a given value, in KIND_NAMES' terms; undefined for NaN (a failed number coercion). */
function kindOf(value: unknown): string | undefined {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isNaN(value)) return undefined;
  return typeof value;
}

const UNITS: Record<string, [one: string, many: string]> = { string: ["character", "characters"], array: ["item", "items"], set: ["item", "items"] };

function bound(origin: string, limit: number, how: { exact: boolean | undefined; inclusive: boolean; least: boolean }): string {
  const unit = UNITS[origin];
  if (unit) {
    const count = `${limit} ${limit === 1 ? unit[0] : unit[1]}`;
    if (how.exact) return `must have exactly ${count}`;
    if (how.least && limit === 1) return "must not be empty";
    return `must have at ${how.least ? "least" : "most"} ${count}`;
  }
  if (how.exact) return `must be exactly ${limit}`;
  if (how.inclusive) return `must be at ${how.least ? "least" : "most"} ${limit}`;
  return `must be ${how.least ? "greater" : "less"} than ${limit}`;
}

/** A union whose every form refused the value's kind: the kinds it may be ("must be a string or a number"). */
function expectedKinds(errors: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): string | undefined {
  const kinds = errors.map(
    (branch) => branch.find((issue) => issue.code === "invalid_type" && issue.path.length === 0) as z.core.$ZodIssueInvalidType | undefined,
  );
  if (kinds.length === 0 || kinds.some((kind) => kind === undefined)) return undefined;
  const names = [...new Set(kinds.map((kind) => KIND_NAMES[kind!.expected] ?? kind!.expected))];
  return `must be ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`}`;
}

/** An allowed value as a message shows it: a plain word bare (`GET`), anything else as JSON. */
const show = (value: unknown): string => (typeof value === "string" && /^[\w.:/-]+$/.test(value) ? value : (JSON.stringify(value) ?? String(value)));

const listOf = (values: readonly unknown[]): string => values.map(show).join(", ");

/**
 * " (did you mean Check?)" when the value given differs from an allowed one only in case —
 * `kind: check`, `method: post`, `type: HTTP` — the slip a person makes most; "" otherwise.
 * For schemas that word their own "must be one of" message, too.
 */
export function caseSlip(input: unknown, allowed: readonly unknown[]): string {
  if (typeof input !== "string") return "";
  const meant = allowed.find((value) => typeof value === "string" && value !== input && value.toLowerCase() === input.toLowerCase());
  return meant === undefined ? "" : ` (did you mean ${show(meant)}?)`;
}
