// Proves that validation problems read in a user's words: each issue names its field and says
// what is wrong ("timeoutMs is required"), a schema's own message is kept, and summaries read as one line.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { automationDefinitionSchema, issueAt, summarizeIssues, validateInput } from "../src/index.ts";

const webhookStep = (webhook: Record<string, unknown>) => ({
  name: "n",
  triggers: [{ event: "e" }],
  actions: [{ webhook: { url: "https://x.example", ...webhook } }],
});
const issuesOf = (schema: z.ZodType, input: unknown, root?: string) => {
  const result = validateInput(schema, input, { root });
  if (result.ok) throw new Error("expected the input to be refused");
  return result.issues;
};

describe("messages zod would write as 'Invalid input'", () => {
  it("says a missing field is required, naming it", () => {
    const schema = z.strictObject({ timeoutMs: z.number() });
    expect(issuesOf(schema, {})).toEqual([{ path: "timeoutMs", message: "timeoutMs is required" }]);
  });

  it("says which kind a field must be, and which kind it was given", () => {
    const schema = z.strictObject({
      intervalSeconds: z.number(),
      name: z.string(),
      enabled: z.boolean(),
      tags: z.array(z.string()),
      labels: z.record(z.string(), z.string()),
    });
    expect(issuesOf(schema, { intervalSeconds: "60", name: 5, enabled: "yes", tags: "a", labels: [] })).toEqual([
      { path: "intervalSeconds", message: "intervalSeconds must be a number, not a string" },
      { path: "name", message: "name must be a string, not a number" },
      { path: "enabled", message: "enabled must be true or false, not a string" },
      { path: "tags", message: "tags must be an array, not a string" },
      { path: "labels", message: "labels must be an object, not an array" },
    ]);
  });

  it("says which fields an object of a few fields has, when it was given something else", () => {
    const schema = z.strictObject({
      runOn: z.strictObject({ satellites: z.strictObject({ ids: z.array(z.string()).optional(), tags: z.array(z.string()).optional() }) }),
    });
    expect(issuesOf(schema, { runOn: { satellites: ["fra-1"] } })).toEqual([
      { path: "runOn.satellites", message: "satellites must be an object (fields: ids, tags), not an array" },
    ]);
    const wide = z.strictObject({ body: z.strictObject(Object.fromEntries("abcdefghi".split("").map((key) => [key, z.number()]))) });
    expect(issuesOf(wide, { body: "x" })[0]!.message).toBe("body must be an object, not a string");
  });

  it("says a number must be whole without calling 1.5 another kind, and a number the query could not read just must be a number", () => {
    const schema = z.strictObject({ retries: z.number().int(), limit: z.coerce.number() });
    expect(issuesOf(schema, { retries: 1.5, limit: "many" }).map((issue) => issue.message)).toEqual([
      "retries must be a whole number",
      "limit must be a number",
    ]);
  });

  it("names an unknown field by itself, with the fields the object knows", () => {
    const issues = issuesOf(automationDefinitionSchema, webhookStep({ timeout: 5000 }));
    expect(issues).toEqual([
      {
        path: "actions.0.webhook.timeout",
        message: 'unknown field "timeout" (did you mean timeoutMs? known: url, method, headers, body, secret, timeoutMs, retries)',
      },
    ]);
  });

  it("says which known field an unknown one meant: another spelling, the start of one field, or a typo", () => {
    const schema = z.strictObject({ intervalSeconds: z.number(), expectStatus: z.number(), method: z.string(), region: z.string(), tags: z.array(z.string()) });
    const meant = (key: string) => issuesOf(schema, { [key]: 1 }).find((issue) => issue.path === key)!.message;
    expect(meant("interval")).toBe('unknown field "interval" (did you mean intervalSeconds? known: intervalSeconds, expectStatus, method, region, tags)');
    expect(meant("expect_status")).toMatch(/^unknown field "expect_status" \(did you mean expectStatus\? known: /);
    expect(meant("Method")).toMatch(/\(did you mean method\? /);
    expect(meant("regoin")).toMatch(/\(did you mean region\? /);
    expect(meant("tag")).toMatch(/\(did you mean tags\? /);
  });

  it("guesses no field when none stands out", () => {
    const schema = z.strictObject({ timeoutMs: z.number(), timeoutSeconds: z.number(), ids: z.array(z.string()), tls: z.boolean() });
    // The start of two fields; unrelated; too short to guess from; too long to be a name.
    for (const key of ["timeout", "retries", "id", `timeoutMs${"x".repeat(300)}`])
      expect(issuesOf(schema, { [key]: 1 })[0]!.message).not.toContain("did you mean");
  });

  it("gives each of several unknown fields its own issue", () => {
    expect(issuesOf(z.strictObject({ a: z.number().optional() }), { b: 1, c: 2 }).map((issue) => issue.path)).toEqual(["b", "c"]);
  });

  it("lists the values an enum allows", () => {
    expect(issuesOf(automationDefinitionSchema, webhookStep({ method: "FETCH" }))).toEqual([
      { path: "actions.0.webhook.method", message: "method must be one of GET, POST, PUT, PATCH, DELETE" },
    ]);
    expect(issuesOf(z.strictObject({ kind: z.literal("http") }), { kind: "tcp" })[0]!.message).toBe("kind must be http");
  });

  it("says which allowed value was meant when the one given differs only in case", () => {
    expect(issuesOf(automationDefinitionSchema, webhookStep({ method: "post" }))[0]!.message).toBe(
      "method must be one of GET, POST, PUT, PATCH, DELETE (did you mean POST?)",
    );
    expect(issuesOf(z.strictObject({ kind: z.literal("Check") }), { kind: "check" })[0]!.message).toBe("kind must be Check (did you mean Check?)");
    const schema = z.strictObject({ check: z.discriminatedUnion("type", [z.object({ type: z.literal("http") }), z.object({ type: z.literal("tcp") })]) });
    expect(issuesOf(schema, { check: { type: "HTTP" } })[0]!.message).toBe("type must be one of http, tcp (did you mean http?)");
  });

  it("lists a discriminator's values when no form has the one given", () => {
    const schema = z.strictObject({ check: z.discriminatedUnion("type", [z.object({ type: z.literal("http") }), z.object({ type: z.literal("tcp") })]) });
    expect(issuesOf(schema, { check: { type: "icmp" } })).toEqual([{ path: "check.type", message: "type must be one of http, tcp" }]);
  });

  it("says which kinds a union takes when the value is none of them", () => {
    expect(issuesOf(z.strictObject({ port: z.union([z.string(), z.number()]) }), { port: true })[0]!.message).toBe("port must be a string or a number");
  });

  it("states bounds with their unit", () => {
    const schema = z.strictObject({
      name: z.string().min(1).max(3),
      tags: z.array(z.string()).min(1).max(2),
      maxRuns: z.number().min(1).max(1000),
      ratio: z.number().gt(0).lt(1),
    });
    expect(issuesOf(schema, { name: "", tags: [], maxRuns: 5000, ratio: 0 }).map((issue) => issue.message)).toEqual([
      "name must not be empty",
      "tags must not be empty",
      "maxRuns must be at most 1000",
      "ratio must be greater than 0",
    ]);
    expect(issuesOf(schema, { name: "long", tags: ["a", "b", "c"], maxRuns: 0, ratio: 1 }).map((issue) => issue.message)).toEqual([
      "name must have at most 3 characters",
      "tags must have at most 2 items",
      "maxRuns must be at least 1",
      "ratio must be less than 1",
    ]);
  });

  it("names string formats in words", () => {
    const schema = z.strictObject({ to: z.email(), url: z.url(), id: z.uuid(), code: z.string().regex(/^[a-z]+$/) });
    expect(issuesOf(schema, { to: "ops", url: "nope", id: "1", code: "A" }).map((issue) => issue.message)).toEqual([
      "to must be an email address",
      "url must be a URL",
      "id must be a uuid",
      "code must match the pattern /^[a-z]+$/",
    ]);
  });

  it("names an item of a list with its list", () => {
    expect(issuesOf(z.strictObject({ tags: z.array(z.string()) }), { tags: ["a", 2] })).toEqual([
      { path: "tags.1", message: "tags.1 must be a string, not a number" },
    ]);
  });

  it("calls the value as a whole what the caller calls it", () => {
    expect(issuesOf(z.strictObject({}), [], "the body")).toEqual([{ path: "", message: "the body must be an object, not an array" }]);
    expect(issuesOf(z.strictObject({}), "x")[0]!.message).toBe("the input must be an object, not a string");
  });
});

describe("messages a schema states itself", () => {
  it("puts the field's name before a predicate", () => {
    const schema = z.strictObject({ name: z.string().min(1, "must not be empty"), zone: z.string().refine(() => false, "is not a known time zone") });
    expect(issuesOf(schema, { name: "", zone: "Mars" }).map((issue) => issue.message)).toEqual(["name must not be empty", "zone is not a known time zone"]);
  });

  it("keeps a whole sentence as it is", () => {
    const issues = issuesOf(automationDefinitionSchema, { name: "n", triggers: [], actions: [{ log: { message: "x" } }] });
    expect(issues).toEqual([{ path: "triggers", message: "an automation needs at least one trigger" }]);
  });

  it("builds other producers' issues by the same rule", () => {
    expect(issueAt(["actions", 0, "webhook", "url"], "must be an http:// or https:// URL")).toEqual({
      path: "actions.0.webhook.url",
      message: "url must be an http:// or https:// URL",
    });
    expect(issueAt(["triggers", 0, "event"], 'unknown trigger event "x"')).toEqual({ path: "triggers.0.event", message: 'unknown trigger event "x"' });
  });
});

describe("summaries", () => {
  it("joins issues in one line, giving the path where the message does not start with it", () => {
    const summary = summarizeIssues([
      { path: "name", message: "name must not be empty" },
      { path: "actions.0.webhook.timeoutMs", message: "timeoutMs is required" },
      { path: "", message: "the body is not valid JSON" },
    ]);
    expect(summary).toBe("name must not be empty; actions.0.webhook.timeoutMs: timeoutMs is required; the body is not valid JSON");
  });
});

describe("validateInput", () => {
  it("returns the parsed value when the input is valid", () => {
    expect(validateInput(z.strictObject({ n: z.coerce.number() }), { n: "5" })).toEqual({ ok: true, value: { n: 5 } });
  });
});
