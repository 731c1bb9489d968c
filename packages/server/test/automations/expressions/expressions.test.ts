// The expression language: parsing (never into the prototype chain), evaluating trigger, vars and entities, templates with errors at their column.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/automations/expressions/evaluate.ts";
import { ExpressionError, formatExpression, parseExpression } from "../../../src/automations/expressions/parse-expression.ts";
import { parseTemplate, renderTemplate } from "../../../src/automations/expressions/template.ts";
import { contextOf, LOST_PAYLOAD } from "../../support/automations/satellite-compiler.ts";

const value = (source: string, context = contextOf()) => evaluate(parseExpression(source), context);

function parseError(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`${source} parsed`);
}

describe("parsing expressions", () => {
  it("parses trigger paths, vars, literals and entity(...) into an AST that formats back", () => {
    for (const source of [
      "trigger.payload.region",
      "trigger.event",
      "vars.x",
      "vars.list[2]",
      "entity('satellite-connection', trigger.payload.satelliteId).status",
    ]) {
      expect(formatExpression(parseExpression(source))).toBe(source);
    }
    expect(parseExpression("'eu-west'")).toEqual({ type: "literal", value: "eu-west" });
    expect(parseExpression(" -2.5 ")).toEqual({ type: "literal", value: -2.5 });
    expect(parseExpression("true")).toEqual({ type: "literal", value: true });
    expect(parseExpression("null")).toEqual({ type: "literal", value: null });
    // Known escapes are read; others keep their backslash (so regexes read as written).
    expect(parseExpression("'it\\'s \\d\\\\'")).toEqual({ type: "literal", value: "it's \\d\\" });
  });

  it.each([
    ["trigger.", 9, "expected a field name"],
    ["process.env", 1, 'unknown name "process"'],
    ["trigger.payload.name()", 21, "unexpected"],
    ["entity(satellite, vars.id)", 8, "entity kind as a quoted string"],
    ["'open", 1, "not closed"],
    ["trigger.payload + 1", 17, 'unexpected "+"'],
    ["trigger.payload['name'", 23, 'expected "]"'],
    ["'a'.length", 4, "a literal has no fields"],
  ])("refuses %j and says where (column %i)", (source, column, reason) => {
    const error = parseError(source);
    expect(error.column).toBe(column);
    expect(error.message).toContain(`at column ${column}`);
    expect(error.reason).toContain(reason);
  });

  it("refuses paths into the prototype chain, so constructor.constructor cannot reach Function", () => {
    expect(parseError("trigger.constructor.constructor").reason).toContain('"constructor" is not a data field');
    expect(parseError("vars.__proto__").column).toBe(6);
    expect(parseError("vars['prototype']").reason).toContain("not a data field");
  });
});

describe("evaluating expressions", () => {
  it("reads the trigger, its payload and vars", async () => {
    expect(await value("trigger.event")).toBe("satellite.heartbeat_lost");
    expect(await value("trigger.payload")).toEqual(LOST_PAYLOAD);
    expect(await value("trigger.payload.region")).toBe("eu-west");
    expect(await value("vars.tags[1]", contextOf({ vars: { tags: ["a", "b"] } }))).toBe("b");
    expect(await value("vars.tags.length", contextOf({ vars: { tags: ["a", "b"] } }))).toBe(2);
  });

  it("reads an entity's state by kind and an id taken from the trigger", async () => {
    const context = contextOf({ states: { "satellite-connection:sat-1": { status: "offline", region: "eu-west" } } });
    expect(await value("entity('satellite-connection', trigger.payload.satelliteId).status", context)).toBe("offline");
    expect(await value("entity('satellite-connection', 'sat-2').status", context)).toBeUndefined();
    expect(await value("entity('satellite-connection', vars.missing)", context)).toBeNull();
  });

  it("gives undefined, never a function, for missing fields and inherited properties", async () => {
    expect(await value("trigger.payload.nothing.deeper")).toBeUndefined();
    expect(await value("trigger.payload.name.length")).toBeUndefined();
    expect(await value("vars.toString", contextOf({ vars: {} }))).toBeUndefined();
    expect(await value("vars.hasOwnProperty")).toBeUndefined();
    const hostile = Object.assign(Object.create({ inherited: "secret" }) as object, { own: 1 });
    expect(await value("vars.x.inherited", contextOf({ vars: { x: hostile } }))).toBeUndefined();
    expect(await value("vars.fn", contextOf({ vars: { fn: () => "called" } }))).toBeUndefined();
  });
});

describe("templates", () => {
  it("renders holes with the same paths, objects as JSON and missing values as nothing", async () => {
    const template = parseTemplate("{{ trigger.payload.name }} in {{trigger.payload.region}} lost its heartbeat {{ vars.none }}({{ vars.o }})");
    expect(await renderTemplate(template, contextOf({ vars: { o: { a: 1 } } }))).toBe('edge-1 in eu-west lost its heartbeat ({"a":1})');
    expect(await renderTemplate(parseTemplate("no holes"), contextOf())).toBe("no holes");
  });

  it("points at the column of a bad hole within the whole template", () => {
    expect(() => parseTemplate("Hello {{ trigger.payload.name")).toThrow('at column 7: the "{{" here is not closed');
    expect(() => parseTemplate("ab {{ }}")).toThrow("at column 4");
    try {
      parseTemplate("Hi {{ process.env }}");
      expect.unreachable();
    } catch (error) {
      expect((error as ExpressionError).column).toBe(7);
    }
  });
});
