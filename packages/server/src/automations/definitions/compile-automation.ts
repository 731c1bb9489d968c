// Turns a submitted definition into a compiled automation, or into every error found, each
// at its path: schema problems first, then unknown triggers, bad paths, templates, regexes.
import {
  type Action,
  type ActionKind,
  type ActionSpecs,
  type ActionWith,
  actionKind,
  type AutomationDefinition,
  automationDefinitionSchema,
  type Condition,
  didYouMean,
  durationMs,
  forEachAction,
  httpUrlMessage,
  type JsonValue,
  mapActions,
  type NotifyAction,
  type Issue,
  validateInput,
  type WebhookAction,
} from "@vantage/protocol";
import { allOf, type ConditionChecker, compileConditions, compileCondition } from "./compile-condition.ts";
import { type CompileScope, compileTemplate, triggerSchemaFor } from "./compile-scope.ts";
import type { Template } from "../expressions/index.ts";
import type { JsonSchema, TriggerRegistry } from "../triggers/trigger-registry.ts";

export interface CompiledTrigger {
  /** The trigger's own id, or `trigger-<index>` when the definition gives none. */
  id: string;
  /** Where the trigger sits in the definition, e.g. `triggers.0`. */
  path: string;
  event: string;
  filter: ConditionChecker | null;
  forMs: number | null;
}

/** A JSON value whose strings are templates. */
export type JsonTemplate = { template: Template } | { list: JsonTemplate[] } | { object: Array<[string, JsonTemplate]> } | { literal: JsonValue };

interface StepBase {
  /** Where the step sits in the definition, e.g. `actions.1.choose.when.0.then.0`: stable per definition. */
  path: string;
  id: string | undefined;
  continueOnError: boolean;
}

export type CompiledAction = StepBase &
  (
    | { kind: "log"; message: Template }
    | ({ kind: "webhook"; url: Template; headers: Array<[string, Template]>; body: JsonTemplate | null } & Pick<
        WebhookAction,
        "method" | "secret" | "timeoutMs" | "retries"
      >)
    | ({ kind: "notify"; channel: string; title: Template | null; message: Template } & Pick<NotifyAction, "severity">)
    | { kind: "delay"; durationMs: number }
    | {
        kind: "wait_until";
        condition: ConditionChecker;
        timeoutMs: number;
        continueOnTimeout: boolean;
        /** A condition with `time` windows can turn true with no change: look again at each such boundary. */
        recheckEvery: TimeGranularity | null;
      }
    | { kind: "choose"; when: Array<{ conditions: ConditionChecker; then: CompiledAction[] }>; otherwise: CompiledAction[] }
    | { kind: "parallel"; branches: CompiledAction[][] }
    | { kind: "stop"; reason: Template | null }
  );

export interface CompiledAutomation {
  definition: AutomationDefinition;
  triggers: CompiledTrigger[];
  /** Distinct event ids of the triggers: the keys of the router's index. */
  eventIds: string[];
  /** One checker per top-level condition, so a skip can say which one was false. */
  conditions: ConditionChecker[];
  actions: CompiledAction[];
}

export type CompileResult = { ok: true; compiled: CompiledAutomation } | { ok: false; errors: Issue[] };

/** What a definition compiles against: built by the automation compiler, from the registries. */
export interface CompileOptions {
  triggers: Pick<TriggerRegistry, "payloadJsonSchema" | "list">;
  /** Entity kinds that entity(...) may name, with their state's JSON Schema. */
  entityKinds: ReadonlyMap<string, JsonSchema | null>;
}

const placeholder: Template = { source: "", parts: [] };

/** How finely a condition's time windows are written: where their truth can flip. */
export type TimeGranularity = "second" | "minute";

/** `second` if a window names seconds, `minute` if it has any time window, else null. */
function timeGranularity(condition: Condition): TimeGranularity | null {
  if ("time" in condition) return [condition.time.after, condition.time.before].some((time) => time?.length === 8) ? "second" : "minute";
  const inner = "and" in condition ? condition.and : "or" in condition ? condition.or : "not" in condition ? [condition.not] : [];
  const found = inner.map(timeGranularity);
  return found.includes("second") ? "second" : found.includes("minute") ? "minute" : null;
}

/** One compiler per kind; a flow kind's spec arrives with its nested steps compiled already. */
type SpecCompilers = {
  [K in ActionKind]: (
    spec: ActionSpecs<CompiledAction>[K],
    path: string,
    scope: CompileScope,
  ) => Omit<Extract<CompiledAction, { kind: K }>, keyof StepBase | "kind">;
};

const template = (source: string, path: string, scope: CompileScope) => compileTemplate(source, path, scope) ?? placeholder;
const optionalTemplate = (source: string | undefined, path: string, scope: CompileScope) => (source === undefined ? null : template(source, path, scope));

function compileJsonTemplate(value: JsonValue, path: string, scope: CompileScope): JsonTemplate {
  if (typeof value === "string") return { template: template(value, path, scope) };
  if (Array.isArray(value)) return { list: value.map((item, index) => compileJsonTemplate(item, `${path}.${index}`, scope)) };
  if (value !== null && typeof value === "object")
    return { object: Object.entries(value).map(([key, item]) => [key, compileJsonTemplate(item, `${path}.${key}`, scope)]) };
  return { literal: value };
}

function checkUrl(source: string, path: string, scope: CompileScope): void {
  // Holes may fill any part, but the scheme must be written out: only http(s) leaves the core.
  const probe = source.replace(/\{\{[\s\S]*?\}\}/g, "x");
  let url: URL | undefined;
  try {
    url = new URL(probe);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) scope.errors.push({ path, message: `url ${httpUrlMessage(source)}` });
}

/** Dispatch table: one compiler per action kind. */
const SPEC_COMPILERS: SpecCompilers = {
  log: (spec, path, scope) => ({ message: template(spec.message, `${path}.message`, scope) }),
  webhook: (spec, path, scope) => {
    checkUrl(spec.url, `${path}.url`, scope);
    return {
      url: template(spec.url, `${path}.url`, scope),
      method: spec.method,
      headers: Object.entries(spec.headers).map(([name, value]) => [name, template(value, `${path}.headers.${name}`, scope)]),
      body: spec.body === undefined ? null : compileJsonTemplate(spec.body, `${path}.body`, scope),
      secret: spec.secret,
      timeoutMs: spec.timeoutMs,
      retries: spec.retries,
    };
  },
  notify: (spec, path, scope) => ({
    channel: spec.channel,
    title: optionalTemplate(spec.title, `${path}.title`, scope),
    message: template(spec.message, `${path}.message`, scope),
    severity: spec.severity,
  }),
  delay: (spec) => ({ durationMs: durationMs(spec.duration) }),
  wait_until: (spec, path, scope) => ({
    condition: compileCondition(spec.condition, `${path}.condition`, scope),
    timeoutMs: durationMs(spec.timeout),
    continueOnTimeout: spec.continueOnTimeout,
    recheckEvery: timeGranularity(spec.condition),
  }),
  choose: (spec, path, scope) => ({
    when: spec.when.map((branch, index) => ({
      conditions: allOf(compileConditions(branch.conditions, `${path}.when.${index}.conditions`, scope)),
      then: branch.then,
    })),
    otherwise: spec.else ?? [],
  }),
  parallel: (spec) => ({ branches: spec.branches }),
  stop: (spec, path, scope) => ({ reason: optionalTemplate(spec.reason, `${path}.reason`, scope) }),
};

function compileAction(action: ActionWith<CompiledAction>, path: string, scope: CompileScope): CompiledAction {
  // The schema admitted the definition: every step has exactly one kind.
  const kind = actionKind(action)!;
  const compile = SPEC_COMPILERS[kind] as (spec: unknown, path: string, scope: CompileScope) => object;
  const spec = compile((action as Record<string, unknown>)[kind], `${path}.${kind}`, scope);
  return { kind, path, id: action.id, continueOnError: action.continueOnError, ...spec } as CompiledAction;
}

/** A step id names one step of the whole definition (nested ones included): a second use is an error at its path. */
function checkStepIds(actions: readonly Action[], scope: CompileScope): void {
  const firstUse = new Map<string, string>();
  forEachAction(actions, "actions", (action, path) => {
    if (action.id === undefined) return;
    const first = firstUse.get(action.id);
    if (first !== undefined) scope.errors.push({ path: `${path}.id`, message: `step id "${action.id}" is already used at ${first}` });
    else firstUse.set(action.id, path);
  });
}

function compileTriggers(
  definition: AutomationDefinition,
  options: CompileOptions,
  base: Omit<CompileScope, "triggerSchemas">,
): { triggers: CompiledTrigger[]; payloads: JsonSchema[] } {
  const payloads: JsonSchema[] = [];
  const ids = new Map<string, number>();
  const triggers = definition.triggers.map((spec, index): CompiledTrigger => {
    const path = `triggers.${index}`;
    const id = spec.id ?? `trigger-${index}`;
    if (ids.has(id)) base.errors.push({ path: `${path}.id`, message: `trigger id "${id}" is already used by triggers.${ids.get(id)}` });
    ids.set(id, index);
    const payloadSchema = options.triggers.payloadJsonSchema(spec.event);
    if (payloadSchema === undefined) {
      const events = options.triggers.list().map((trigger) => trigger.id);
      const known = `${didYouMean(spec.event, events)}known: ${events.join(", ") || "none"}`;
      base.errors.push({ path: `${path}.event`, message: `unknown trigger event "${spec.event}" (${known})` });
    } else {
      payloads.push(payloadSchema);
    }
    // A filter sees only its own trigger's payload.
    const scope: CompileScope = { ...base, triggerSchemas: [triggerSchemaFor(payloadSchema ?? null)] };
    return {
      id,
      path,
      event: spec.event,
      filter: spec.filter ? compileCondition(spec.filter, `${path}.filter`, scope) : null,
      forMs: spec.for === undefined ? null : durationMs(spec.for),
    };
  });
  return { triggers, payloads };
}

/** How deeply a definition's JSON may nest: far beyond any real one, far below the stack's limit. */
export const MAX_DEFINITION_DEPTH = 64;

/** The path of the first value nested deeper than the limit, found without recursion. */
function tooDeep(input: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: input, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (item.value === null || typeof item.value !== "object") continue;
    if (item.path.length >= MAX_DEFINITION_DEPTH) return item.path.join(".");
    for (const [key, value] of Object.entries(item.value)) stack.push({ value, path: [...item.path, key] });
  }
  return undefined;
}

/** Validates and compiles a definition as submitted (JSON or parsed YAML); outside tests, through the AutomationCompiler. */
export function compileAutomation(input: unknown, options: CompileOptions): CompileResult {
  const deep = tooDeep(input);
  if (deep !== undefined) return { ok: false, errors: [{ path: deep, message: `nests deeper than ${MAX_DEFINITION_DEPTH} levels` }] };
  const parsed = validateInput(automationDefinitionSchema, input, { root: "the automation" });
  if (!parsed.ok) return { ok: false, errors: parsed.issues };
  const definition = parsed.value;
  const base = { entityKinds: options.entityKinds, errors: [] as Issue[] };
  const { triggers, payloads } = compileTriggers(definition, options, base);
  // Conditions and actions may run for any of the triggers: a path must exist in at least one payload.
  const scope: CompileScope = { ...base, triggerSchemas: payloads.length > 0 ? payloads.map(triggerSchemaFor) : [triggerSchemaFor(null)] };
  const conditions = compileConditions(definition.conditions, "conditions", scope);
  checkStepIds(definition.actions, scope);
  const actions = mapActions<CompiledAction>(definition.actions, "actions", (action, path) => compileAction(action, path, scope));
  if (base.errors.length > 0) return { ok: false, errors: base.errors };
  return { ok: true, compiled: { definition, triggers, eventIds: [...new Set(triggers.map((trigger) => trigger.event))], conditions, actions } };
}
