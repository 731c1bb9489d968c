// The automation definition: one zod schema for what users author (as JSON or YAML), with
// errors at field paths, plus its JSON Schema for editors. Expressions inside are strings
// here; the core parses them into ASTs when the definition is saved.
import { z } from "zod";
import { MAX_USER_REGEX_LENGTH } from "../user-regex.ts";
import { boundedDurationSchema, type Duration, durationSchema, MAX_AUTOMATION_DELAY_MS } from "./duration.ts";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A comparison operand. A string is an expression (`trigger.payload.region`, `'eu-west'`,
 * `entity('satellite-connection', trigger.payload.satelliteId).status`); numbers, booleans,
 * null and arrays are literals; `{ value }` is a literal of any JSON value.
 */
export type Operand = string | number | boolean | null | JsonValue[] | { value: JsonValue };

export const COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "contains", "matches"] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface CompareSpec {
  left: Operand;
  op: CompareOp;
  right: Operand;
}

export interface TimeWindow {
  /** Local time of day `HH:MM` or `HH:MM:SS`, inclusive. A window may wrap midnight. */
  after?: string;
  /** Local time of day, exclusive. */
  before?: string;
  weekdays?: Weekday[];
  /** IANA zone of the window; UTC when absent. */
  timezone?: string;
}

export type Condition = { and: Condition[] } | { or: Condition[] } | { not: Condition } | { compare: CompareSpec } | { time: TimeWindow };

export interface LogAction {
  message: string;
}
export const WEBHOOK_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export interface WebhookAction {
  url: string;
  method: (typeof WEBHOOK_METHODS)[number];
  headers: Record<string, string>;
  /** Sent as JSON; every string inside is a template. Absent: the trigger payload. */
  body?: JsonValue;
  /** Signs each request (`X-Vantage-Signature`, HMAC-SHA256 of timestamp and body). */
  secret?: string;
  timeoutMs: number;
  retries: number;
}
export interface NotifyAction {
  /** A notification channel's id or name. */
  channel: string;
  title?: string;
  message: string;
  /** Sent with the notification (webhook `severity`, the `[WARNING]` in chat and email subjects); `warning` when absent. */
  severity?: "info" | "warning" | "critical";
}
export interface DelayAction {
  duration: Duration;
}
export interface WaitUntilAction {
  condition: Condition;
  timeout: Duration;
  continueOnTimeout: boolean;
}
export interface ChooseAction {
  when: Array<{ conditions: Condition[]; then: Action[] }>;
  else?: Action[];
}
export interface ParallelAction {
  branches: Action[][];
}
export interface StopAction {
  reason?: string;
}

export interface ActionsByKind {
  log: LogAction;
  webhook: WebhookAction;
  notify: NotifyAction;
  delay: DelayAction;
  wait_until: WaitUntilAction;
  choose: ChooseAction;
  parallel: ParallelAction;
  stop: StopAction;
}
export type ActionKind = keyof ActionsByKind;
export const ACTION_KINDS = ["log", "webhook", "notify", "delay", "wait_until", "choose", "parallel", "stop"] as const satisfies readonly ActionKind[];
export const CONDITION_KINDS = ["and", "or", "not", "compare", "time"] as const;

/** One step: exactly one action kind, plus the step's own options. */
export type Action = { id?: string; continueOnError: boolean } & { [K in ActionKind]: { [P in K]: ActionsByKind[K] } }[ActionKind];

const MAX_DELAY_LABEL = "30 days";

/**
 * An object with exactly one of `kinds` present; unknown keys are refused by name. The JSON
 * Schema says the same with `oneOf` (exactly one `required` kind holds), so editors agree.
 */
function exactlyOne<Shape extends z.core.$ZodLooseShape>(shape: Shape, kinds: readonly string[], what: string) {
  return z
    .strictObject(shape)
    .superRefine((value, ctx) => {
      const present = kinds.filter((kind) => (value as Record<string, unknown>)[kind] !== undefined);
      if (present.length === 1) return;
      ctx.addIssue({
        code: "custom",
        message:
          present.length === 0 ? `${what} needs one of: ${kinds.join(", ")}` : `${what} has exactly one of ${kinds.join(", ")}, not ${present.join(" and ")}`,
      });
    })
    .meta({ oneOf: kinds.map((kind) => ({ required: [kind] })) });
}

const jsonSchema: z.ZodType<JsonValue> = z.json();

const operandSchema = z.union([
  z.string().min(1, "an expression cannot be empty"),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(jsonSchema),
  z.strictObject({ value: jsonSchema }),
]);

// `matches` takes a literal pattern, quoted (`'^eu-'`, escapes as in expressions) or
// `{ value }`, of at most MAX_USER_REGEX_LENGTH characters as written; the core compiles it
// on RE2 when the definition is saved.
const LITERAL_PATTERN = "matches needs a literal pattern, e.g. '^eu-' or { value: \"^eu-\" }";
const QUOTED = /^\s*(?:'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*")\s*$/;
const tooLongPattern = `a pattern is at most ${MAX_USER_REGEX_LENGTH} characters`;
const patternOperandSchema = z.union(
  [
    z
      .string()
      .regex(QUOTED, LITERAL_PATTERN)
      .max(MAX_USER_REGEX_LENGTH + 2, tooLongPattern),
    z.strictObject({ value: z.string().max(MAX_USER_REGEX_LENGTH, tooLongPattern) }),
  ],
  { error: LITERAL_PATTERN },
);

const compareSchema = z.discriminatedUnion(
  "op",
  [
    z.strictObject({ left: operandSchema, op: z.enum(COMPARE_OPS.filter((op) => op !== "matches") as [Exclude<CompareOp, "matches">]), right: operandSchema }),
    z.strictObject({ left: operandSchema, op: z.literal("matches"), right: patternOperandSchema }),
  ],
  { error: `must be one of: ${COMPARE_OPS.join(", ")}` },
);

const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a time of day "HH:MM" or "HH:MM:SS"');

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timeWindowSchema = z.strictObject({
  after: timeOfDaySchema.optional(),
  before: timeOfDaySchema.optional(),
  weekdays: z.array(z.enum(WEEKDAYS)).min(1).optional(),
  timezone: z.string().refine(isTimeZone, { message: "is not a known IANA time zone (e.g. Europe/Berlin)" }).optional(),
});

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  exactlyOne(
    {
      and: z.array(conditionSchema).optional(),
      or: z.array(conditionSchema).min(1).optional(),
      not: conditionSchema.optional(),
      compare: compareSchema.optional(),
      time: timeWindowSchema.optional(),
    },
    CONDITION_KINDS,
    "a condition",
  ),
) as unknown as z.ZodType<Condition>;

const templateSchema = z.string().max(10_000);

const actionSpecSchemas = {
  log: z.strictObject({ message: templateSchema.min(1) }),
  webhook: z.strictObject({
    url: templateSchema.min(1),
    method: z.enum(WEBHOOK_METHODS).default("POST"),
    headers: z.record(z.string().min(1), templateSchema).default({}),
    body: jsonSchema.optional(),
    secret: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    retries: z.number().int().min(0).max(10).default(3),
  }),
  notify: z.strictObject({
    channel: z.string().min(1),
    title: templateSchema.optional(),
    message: templateSchema.min(1),
    severity: z.enum(["info", "warning", "critical"]).optional(),
  }),
  delay: z.strictObject({ duration: boundedDurationSchema(MAX_AUTOMATION_DELAY_MS, MAX_DELAY_LABEL) }),
  get wait_until() {
    return z.strictObject({
      condition: conditionSchema,
      timeout: boundedDurationSchema(MAX_AUTOMATION_DELAY_MS, MAX_DELAY_LABEL),
      continueOnTimeout: z.boolean().default(false),
    });
  },
  get choose() {
    return z.strictObject({
      when: z.array(z.strictObject({ conditions: z.array(conditionSchema).min(1), then: z.array(actionSchema).min(1) })).min(1),
      else: z.array(actionSchema).min(1).optional(),
    });
  },
  get parallel() {
    return z.strictObject({ branches: z.array(z.array(actionSchema).min(1)).min(1) });
  },
  stop: z.strictObject({ reason: templateSchema.optional() }),
};

const stepIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, _ or -");

export const actionSchema: z.ZodType<Action> = z.lazy(() =>
  exactlyOne(
    {
      id: stepIdSchema.optional(),
      continueOnError: z.boolean().default(false),
      log: actionSpecSchemas.log.optional(),
      webhook: actionSpecSchemas.webhook.optional(),
      notify: actionSpecSchemas.notify.optional(),
      delay: actionSpecSchemas.delay.optional(),
      wait_until: actionSpecSchemas.wait_until.optional(),
      choose: actionSpecSchemas.choose.optional(),
      parallel: actionSpecSchemas.parallel.optional(),
      stop: actionSpecSchemas.stop.optional(),
    },
    ACTION_KINDS,
    "an action",
  ),
) as unknown as z.ZodType<Action>;

export const triggerSpecSchema = z.strictObject({
  id: stepIdSchema.optional(),
  /** A registered trigger event id, e.g. `satellite.heartbeat_lost`. */
  event: z.string().min(1),
  /** Must hold for the change to fire this trigger. */
  filter: conditionSchema.optional(),
  /** Fires only if the filter keeps holding this long. */
  for: boundedDurationSchema(MAX_AUTOMATION_DELAY_MS, MAX_DELAY_LABEL).optional(),
});
export type TriggerSpec = z.infer<typeof triggerSpecSchema>;

export const AUTOMATION_MODES = ["single", "restart", "queued", "parallel"] as const;
export const AUTOMATION_CONCURRENCY = ["automation", "context"] as const;

export const automationDefinitionSchema = z.strictObject({
  // Blank is refused before trimming, so the JSON Schema can say it too (a pattern).
  name: z.string().regex(/\S/, "cannot be empty").trim().max(200),
  description: z.string().max(2_000).optional(),
  enabled: z.boolean().default(true),
  triggers: z.array(triggerSpecSchema).min(1, "an automation needs at least one trigger"),
  conditions: z.array(conditionSchema).default([]),
  actions: z.array(actionSchema).min(1, "an automation needs at least one action"),
  mode: z.enum(AUTOMATION_MODES).default("single"),
  maxRuns: z.number().int().min(1).max(1000).default(10),
  concurrency: z.enum(AUTOMATION_CONCURRENCY).default("automation"),
});
export type AutomationDefinition = z.infer<typeof automationDefinitionSchema>;
export type AutomationDefinitionInput = z.input<typeof automationDefinitionSchema>;

/** The definition's JSON Schema (input side: defaulted fields are optional), for editors. */
export const automationDefinitionJsonSchema = z.toJSONSchema(automationDefinitionSchema, { io: "input", unrepresentable: "any" });

export { durationSchema, type Duration };
