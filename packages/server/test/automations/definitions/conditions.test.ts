// Compiled conditions: comparisons (linear-time regexes, entity state), and / or / not, and time windows in their own zone.
import type { Condition } from "@vantage/protocol";
import { conditionSchema } from "@vantage/protocol";
import { describe, expect, it } from "vitest";
import { compileCondition, type ConditionChecker } from "../../../src/automations/definitions/compile-condition.ts";
import { triggerSchemaFor, type CompileScope } from "../../../src/automations/definitions/compile-scope.ts";
import { toOutputJsonSchema } from "../../../src/automations/triggers/trigger-registry.ts";
import { satelliteTriggerPayloadSchema } from "../../../src/satellites/connection/triggers.ts";
import { satelliteConnectionStateSchema } from "../../../src/satellites/index.ts";
import { contextOf } from "../../support/automations/satellite-compiler.ts";

function checker(input: unknown): ConditionChecker {
  const scope: CompileScope = {
    triggerSchemas: [triggerSchemaFor(toOutputJsonSchema(satelliteTriggerPayloadSchema))],
    entityKinds: new Map([["satellite-connection", toOutputJsonSchema(satelliteConnectionStateSchema)]]),
    errors: [],
  };
  const check = compileCondition(conditionSchema.parse(input), "condition", scope);
  expect(scope.errors).toEqual([]);
  return check;
}

const holds = (condition: unknown, context = contextOf()) => checker(condition)(context);
const compare = (left: unknown, op: string, right: unknown): Condition => ({ compare: { left, op, right } }) as Condition;

describe("compare", () => {
  it.each([
    [compare("trigger.payload.region", "==", "'eu-west'"), true],
    [compare("trigger.payload.region", "==", { value: "us-east" }), false],
    [compare("trigger.payload.region", "!=", "'us-east'"), true],
    [compare("vars.n", "<", 5), true],
    [compare("vars.n", "<=", 3), true],
    [compare("vars.n", ">", 3), false],
    [compare("vars.n", ">=", 3), true],
    [compare("vars.n", ">", "'2'"), false],
    [compare("trigger.payload.region", "in", ["eu-west", "eu-central"]), true],
    [compare("trigger.payload.region", "in", ["us-east"]), false],
    [compare("'west'", "in", "trigger.payload.region"), true],
    [compare("vars.tags", "contains", "'prod'"), true],
    [compare("vars.tags", "contains", "'lab'"), false],
    [compare("trigger.payload.name", "contains", "'edge'"), true],
    [compare("trigger.payload.region", "matches", "'^eu-'"), true],
    [compare("trigger.payload.region", "matches", { value: "^us-" }), false],
    [compare("vars.n", "matches", "'3'"), false],
    [compare("trigger.payload.name", "matches", String.raw`'^edge-\d+$'`), true],
    [compare("trigger.payload.name", "matches", { value: String.raw`^\w+$` }), false],
    [compare("vars.obj", "==", { value: { b: 2, a: 1 } }), true],
    [compare("trigger.payload.lastSeenAt", "!=", null), true],
    [compare("vars.missing", "==", null), false],
  ])("%j is %s", async (condition, expected) => {
    expect(await holds(condition, contextOf({ vars: { n: 3, tags: ["prod", "eu"], obj: { a: 1, b: 2 } } }))).toBe(expected);
  });

  it("answers a pattern that backtracks catastrophically at once, and false, on a linear-time engine", async () => {
    // A backtracking engine takes ~2^29 steps (tens of seconds) on this value, blocking past the timeout.
    const condition = compare("vars.name", "matches", "'^(a+)+$'");
    expect(await holds(condition, contextOf({ vars: { name: `${"a".repeat(29)}!` } }))).toBe(false);
    expect(await holds(condition, contextOf({ vars: { name: "a".repeat(29) } }))).toBe(true);
  }, 5_000);

  it("compares with an entity's current state", async () => {
    const condition = compare("entity('satellite-connection', trigger.payload.satelliteId).status", "==", "'offline'");
    expect(await holds(condition, contextOf({ states: { "satellite-connection:sat-1": { status: "offline" } } }))).toBe(true);
    expect(await holds(condition, contextOf({ states: { "satellite-connection:sat-1": { status: "online" } } }))).toBe(false);
    expect(await holds(condition, contextOf())).toBe(false);
  });
});

describe("and / or / not", () => {
  const yes = compare(1, "==", 1);
  const no = compare(1, "==", 2);
  it("combines like boolean logic, an empty and holding", async () => {
    expect(await holds({ and: [yes, yes] })).toBe(true);
    expect(await holds({ and: [yes, no] })).toBe(false);
    expect(await holds({ and: [] })).toBe(true);
    expect(await holds({ or: [no, yes] })).toBe(true);
    expect(await holds({ or: [no, no] })).toBe(false);
    expect(await holds({ not: no })).toBe(true);
    expect(await holds({ not: { and: [yes, { or: [no, yes] }] } })).toBe(false);
  });

  it("stops at the first false condition of an and", async () => {
    let lookups = 0;
    const condition = { and: [no, compare("entity('satellite-connection', 'sat-1').status", "==", "'offline'")] };
    await holds(condition, contextOf({ entity: async () => (lookups++, null) }));
    expect(lookups).toBe(0);
  });
});

describe("time windows", () => {
  // 2026-01-05 is a Monday. 22:30 UTC is 23:30 in Berlin and 17:30 in New York.
  const at = (iso: string) => contextOf({ now: Date.parse(iso) });

  it("holds from after (inclusive) until before (exclusive) in the given zone", async () => {
    const window = { time: { after: "09:00", before: "17:00", timezone: "Europe/Berlin" } };
    expect(await holds(window, at("2026-01-05T08:00:00Z"))).toBe(true); // 09:00 Berlin
    expect(await holds(window, at("2026-01-05T07:59:59Z"))).toBe(false);
    expect(await holds(window, at("2026-01-05T16:00:00Z"))).toBe(false); // 17:00 Berlin
    expect(await holds(window, at("2026-01-05T15:59:59Z"))).toBe(true);
  });

  it("wraps midnight when after is later than before", async () => {
    const night = { time: { after: "22:00", before: "06:00" } };
    expect(await holds(night, at("2026-01-05T23:00:00Z"))).toBe(true);
    expect(await holds(night, at("2026-01-06T05:59:00Z"))).toBe(true);
    expect(await holds(night, at("2026-01-06T06:00:00Z"))).toBe(false);
    expect(await holds(night, at("2026-01-05T12:00:00Z"))).toBe(false);
  });

  it("checks the weekday in the window's zone, not in UTC", async () => {
    const monday = { time: { weekdays: ["mon"], timezone: "Asia/Tokyo" } };
    expect(await holds(monday, at("2026-01-05T10:00:00Z"))).toBe(true); // Monday 19:00 in Tokyo
    expect(await holds(monday, at("2026-01-05T16:00:00Z"))).toBe(false); // Tuesday 01:00 in Tokyo
    expect(await holds({ time: { weekdays: ["sat", "sun"] } }, at("2026-01-05T10:00:00Z"))).toBe(false);
  });
});
