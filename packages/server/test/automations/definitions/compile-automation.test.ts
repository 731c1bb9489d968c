// Compiling a definition: defaults, durations and step paths for a valid one; every error at its path for an invalid one.
import { automationDefinitionJsonSchema } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { createAutomationCompiler, createTriggerRegistry, defineTrigger } from "../../../src/automations/index.ts";
import type { CompiledAction } from "../../../src/automations/definitions/compile-automation.ts";
import { renderTemplate } from "../../../src/automations/expressions/template.ts";
import { z } from "zod";
import { contextOf, satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

const options = satelliteCompiler();

function definition(overrides: Record<string, unknown> = {}) {
  return {
    name: "Page on lost heartbeat",
    triggers: [
      { id: "lost", event: "satellite.heartbeat_lost", filter: { compare: { left: "trigger.payload.region", op: "matches", right: "'^eu-'" } }, for: "30s" },
    ],
    conditions: [{ compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).status", op: "==", right: "'offline'" } }],
    actions: [
      {
        id: "page",
        webhook: {
          url: "https://hooks.example.com/{{ trigger.payload.satelliteId }}",
          body: { text: "{{ trigger.payload.name }} is gone", region: "{{ trigger.payload.region }}", n: 1 },
        },
      },
      { delay: { duration: "5m" } },
      {
        choose: {
          when: [
            {
              conditions: [{ time: { after: "09:00", before: "17:00", timezone: "Europe/Berlin" } }],
              then: [{ notify: { channel: "oncall", message: "{{ trigger.payload.name }}" } }],
            },
          ],
          else: [{ stop: {} }],
        },
      },
    ],
    ...overrides,
  };
}

function errorsOf(input: unknown) {
  const result = options.compiler.compile(input);
  if (result.ok) throw new Error("expected the definition to be refused");
  return result.errors;
}

const paths = (input: unknown) => errorsOf(input).map((error) => error.path);

describe("compiling a valid definition", () => {
  it("fills defaults, converts durations and keeps each step's path", () => {
    const result = options.compiler.compile(definition());
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const { compiled } = result;
    expect(compiled.definition).toMatchObject({ enabled: true, mode: "single", maxRuns: 10, concurrency: "automation" });
    expect(compiled.eventIds).toEqual(["satellite.heartbeat_lost"]);
    expect(compiled.triggers).toEqual([{ id: "lost", path: "triggers.0", event: "satellite.heartbeat_lost", filter: expect.any(Function), forMs: 30_000 }]);
    expect(compiled.actions.map((action) => [action.kind, action.path, action.id])).toEqual([
      ["webhook", "actions.0", "page"],
      ["delay", "actions.1", undefined],
      ["choose", "actions.2", undefined],
    ]);
    expect(compiled.actions[0]).toMatchObject({ method: "POST", timeoutMs: 10_000, retries: 3, continueOnError: false });
    expect(compiled.actions[1]).toMatchObject({ durationMs: 300_000 });
    const choose = compiled.actions[2] as Extract<CompiledAction, { kind: "choose" }>;
    expect(choose.when[0]!.then[0]).toMatchObject({ kind: "notify", path: "actions.2.choose.when.0.then.0", channel: "oncall" });
    expect(choose.otherwise[0]).toMatchObject({ kind: "stop", path: "actions.2.choose.else.0" });
  });

  it("compiles filters, conditions and templates that evaluate against a run", async () => {
    const result = options.compiler.compile(definition());
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const context = contextOf({ states: { "satellite-connection:sat-1": { status: "offline" } } });
    expect(await result.compiled.triggers[0]!.filter!(context)).toBe(true);
    expect(await result.compiled.triggers[0]!.filter!(contextOf({ trigger: { event: "satellite.heartbeat_lost", payload: { region: "us-east" } } }))).toBe(
      false,
    );
    expect(await result.compiled.conditions[0]!(context)).toBe(true);
    const webhook = result.compiled.actions[0] as Extract<CompiledAction, { kind: "webhook" }>;
    expect(await renderTemplate(webhook.url, context)).toBe("https://hooks.example.com/sat-1");
  });

  it("accepts numbers of milliseconds and the 30-day limit itself", () => {
    expect(options.compiler.compile(definition({ actions: [{ delay: { duration: 1500 } }, { delay: { duration: "30d" } }] })).ok).toBe(true);
  });

  it("lets paths read any field of any of the automation's triggers", () => {
    const triggers = createTriggerRegistry([
      defineTrigger({ id: "a.one", displayName: "One", description: "", payloadSchema: z.object({ only: z.string() }), contextKey: (p) => p.only }),
      defineTrigger({ id: "a.two", displayName: "Two", description: "", payloadSchema: z.object({ other: z.number() }), contextKey: () => "x" }),
    ]);
    const input = {
      name: "both",
      triggers: [{ event: "a.one" }, { event: "a.two" }],
      actions: [{ log: { message: "{{ trigger.payload.only }} {{ trigger.payload.other }}" } }],
    };
    const compiler = createAutomationCompiler({ triggers, entities: { kinds: () => new Map() } });
    expect(compiler.compile(input).ok).toBe(true);
    const typo = compiler.compile({ ...input, actions: [{ log: { message: "{{ trigger.payload.neither }}" } }] });
    expect(typo).toMatchObject({ ok: false, errors: [{ path: "actions.0.log.message" }] });
  });
});

describe("refusing invalid definitions, each error at its path", () => {
  it("refuses an unknown trigger event and names the known ones", () => {
    expect(errorsOf(definition({ triggers: [{ event: "satellite.exploded" }] }))).toEqual([
      {
        path: "triggers.0.event",
        message: 'unknown trigger event "satellite.exploded" (known: satellite.connected, satellite.disconnected, satellite.heartbeat_lost)',
      },
    ]);
    expect(errorsOf(definition({ triggers: [{ event: "satellite.heartbeat-lost" }] }))[0]!.message).toBe(
      'unknown trigger event "satellite.heartbeat-lost" (did you mean satellite.heartbeat_lost? known: satellite.connected, satellite.disconnected, satellite.heartbeat_lost)',
    );
  });

  it("refuses a path to a field the payload does not have, naming the fields it has", () => {
    const [error] = errorsOf(definition({ conditions: [{ compare: { left: "trigger.payload.regoin", op: "==", right: "'eu'" } }] }));
    expect(error).toEqual({
      path: "conditions.0.compare.left",
      message: 'at column 17: trigger.payload has no field "regoin" (it has: affectedChecks, lastSeenAt, name, region, satelliteId, status)',
    });
  });

  it("refuses a bad expression and an unknown entity kind", () => {
    expect(errorsOf(definition({ conditions: [{ compare: { left: "trigger.payload..x", op: "==", right: "entity('check', 'x').status" } }] }))).toEqual([
      { path: "conditions.0.compare.left", message: 'at column 17: expected a field name after "." but found "."' },
      { path: "conditions.0.compare.right", message: 'at column 8: unknown entity kind "check" (known: satellite-connection)' },
    ]);
    expect(paths(definition({ conditions: [{ compare: { left: "entity('satellite-connection', vars.id).statsu", op: "==", right: 1 } }] }))).toEqual([
      "conditions.0.compare.left",
    ]);
  });

  it("refuses an unknown action, and an action with two kinds", () => {
    expect(errorsOf(definition({ actions: [{ log: { message: "ok" } }, { explode: {} }] }))).toEqual([
      { path: "actions.1.explode", message: expect.stringMatching(/^unknown field "explode" \(known: id, continueOnError, log, webhook, /) },
      { path: "actions.1", message: expect.stringContaining("an action needs one of: log, webhook, notify, delay, wait_until, choose, parallel, stop") },
    ]);
    expect(paths(definition({ actions: [{ log: { message: "a" }, stop: {} }] }))).toEqual(["actions.0"]);
  });

  it("refuses a delay or wait beyond 30 days, and a malformed duration", () => {
    expect(errorsOf(definition({ actions: [{ log: { message: "a" } }, { log: { message: "b" } }, { delay: { duration: "31d" } }] }))).toEqual([
      { path: "actions.2.delay.duration", message: "duration must be at most 30 days" },
    ]);
    const waitUntil = { wait_until: { condition: { compare: { left: 1, op: "==", right: 1 } }, timeout: 30 * 86_400_000 + 1 } };
    expect(paths(definition({ actions: [{ parallel: { branches: [[waitUntil]] } }] }))).toEqual(["actions.0.parallel.branches.0.0.wait_until.timeout"]);
    expect(paths(definition({ actions: [{ delay: { duration: "5 minutes" } }] }))).toEqual(["actions.0.delay.duration"]);
  });

  it("refuses a bad template in any action field, saying where in the template", () => {
    expect(errorsOf(definition({ actions: [{ notify: { channel: "ops", title: "ok", message: "Lost {{ trigger.payload.name" } }] }))).toEqual([
      { path: "actions.0.notify.message", message: 'at column 6: the "{{" here is not closed with "}}"' },
    ]);
    const webhook = {
      webhook: {
        url: "https://x.example/{{ trigger.nope }}",
        headers: { "X-Region": "{{ trigger.payload.region.code }}" },
        body: { list: ["{{ vars.ok }}", "{{ process }}"] },
      },
    };
    expect(paths(definition({ actions: [webhook] }))).toEqual(["actions.0.webhook.url", "actions.0.webhook.headers.X-Region", "actions.0.webhook.body.list.1"]);
  });

  it("refuses a bad regex in matches, and a pattern that is not a literal", () => {
    const matches = (right: unknown) => definition({ conditions: [{ compare: { left: "trigger.payload.name", op: "matches", right } }] });
    expect(errorsOf(matches("'(unclosed'"))).toEqual([
      { path: "conditions.0.compare.right", message: expect.stringContaining("is not a valid regular expression") },
    ]);
    expect(paths(matches("trigger.payload.region"))).toEqual(["conditions.0.compare.right"]);
  });

  it("refuses a regex a linear-time engine cannot run, saying why, and one over 512 characters", () => {
    const matches = (right: unknown) => definition({ conditions: [{ compare: { left: "trigger.payload.name", op: "matches", right } }] });
    expect(errorsOf(matches(String.raw`'^(a)\1$'`))).toEqual([
      { path: "conditions.0.compare.right", message: expect.stringMatching(/^backreferences .* are not supported: patterns run on a linear-time engine/) },
    ]);
    expect(errorsOf(matches({ value: "^(?!test-)" }))).toEqual([
      { path: "conditions.0.compare.right", message: expect.stringMatching(/^lookahead and lookbehind .* are not supported/) },
    ]);
    expect(errorsOf(matches({ value: "(?<=eu-)west" }))).toEqual([
      { path: "conditions.0.compare.right", message: expect.stringMatching(/^lookahead and lookbehind/) },
    ]);
    expect(errorsOf(matches({ value: "a".repeat(513) }))).toEqual([
      { path: "conditions.0.compare.right.value", message: "a pattern is at most 512 characters" },
    ]);
    expect(options.compiler.compile(matches({ value: "a".repeat(512) })).ok).toBe(true);
  });

  it("refuses an unknown time zone, a bad time of day and an unknown weekday", () => {
    const time = (window: unknown) => definition({ conditions: [{ and: [{ time: window }] }] });
    expect(errorsOf(time({ timezone: "Mars/Olympus" }))).toEqual([
      { path: "conditions.0.and.0.time.timezone", message: "timezone is not a known IANA time zone (e.g. Europe/Berlin)" },
    ]);
    expect(paths(time({ after: "25:00", weekdays: ["funday"] }))).toEqual(["conditions.0.and.0.time.after", "conditions.0.and.0.time.weekdays.0"]);
  });

  it("refuses a filter path outside its own trigger's payload and prototype paths", () => {
    expect(
      paths(definition({ triggers: [{ event: "satellite.connected", filter: { compare: { left: "trigger.payload.constructor", op: "==", right: 1 } } }] })),
    ).toEqual(["triggers.0.filter.compare.left"]);
  });

  it("refuses repeated step ids, a non-http URL, an empty name and missing triggers and actions", () => {
    expect(
      paths(
        definition({ actions: [{ id: "x", log: { message: "a" } }, { choose: { when: [{ conditions: [{ and: [] }], then: [{ id: "x", stop: {} }] }] } }] }),
      ),
    ).toEqual(["actions.1.choose.when.0.then.0.id"]);
    expect(paths(definition({ actions: [{ webhook: { url: "file:///etc/passwd" } }] }))).toEqual(["actions.0.webhook.url"]);
    expect(errorsOf(definition({ actions: [{ webhook: { url: "hooks.example.com/{{ trigger.event }}" } }] }))).toEqual([
      { path: "actions.0.webhook.url", message: "url must be an http:// or https:// URL (e.g. https://hooks.example.com/{{ trigger.event }})" },
    ]);
    expect(paths({ name: "", triggers: [], actions: [] }).sort()).toEqual(["actions", "name", "triggers"]);
    expect(paths(definition({ mode: "sometimes", maxRuns: 0, concurrency: "global" })).sort()).toEqual(["concurrency", "maxRuns", "mode"]);
  });
});

describe("the definition's JSON Schema", () => {
  it("describes the definition, recursion included, for editors", () => {
    expect(automationDefinitionJsonSchema).toMatchObject({ type: "object", required: expect.arrayContaining(["name", "triggers", "actions"]) });
    expect(JSON.stringify(automationDefinitionJsonSchema)).toContain("wait_until");
  });
});

describe("hostile definitions", () => {
  it("refuses a definition nested deeper than the limit instead of overflowing the stack", () => {
    let condition: unknown = { compare: { left: 1, op: "==", right: 1 } };
    for (let level = 0; level < 5_000; level++) condition = { not: condition };
    const [error] = errorsOf(definition({ conditions: [condition] }));
    expect(error!.message).toBe("nests deeper than 64 levels");
    expect(error!.path).toMatch(/^conditions\.0\.not\.not\./);
  });

  it("accepts a reasonably nested one", () => {
    let condition: unknown = { compare: { left: 1, op: "==", right: 1 } };
    for (let level = 0; level < 20; level++) condition = { not: condition };
    expect(options.compiler.compile(definition({ conditions: [condition] })).ok).toBe(true);
  });
});

describe("the trigger registry", () => {
  const trigger = (id: string) => defineTrigger({ id, displayName: id, description: "", payloadSchema: z.object({ a: z.string() }), contextKey: (p) => p.a });

  it("refuses a second trigger with the same id, and forgets one when its removal is called", () => {
    const registry = createTriggerRegistry();
    const remove = registry.register(trigger("x.one"));
    expect(() => registry.register(trigger("x.one"))).toThrow('Trigger "x.one" is already registered.');
    expect(registry.list()).toMatchObject([{ id: "x.one", payloadSchema: { type: "object", properties: { a: { type: "string" } } } }]);
    remove();
    expect(registry.get("x.one")).toBeUndefined();
    expect(registry.list()).toEqual([]);
  });
});
