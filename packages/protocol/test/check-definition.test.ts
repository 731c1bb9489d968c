// The check definition schema: defaults, errors at the path of the mistake, and a JSON Schema
// that accepts and refuses exactly what the zod schema does (checked with a real validator).
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import {
  anyCheckDefinitionJsonSchema,
  checkDefinitionJsonSchema,
  checkDefinitionSchema,
  HEARTBEAT_CHECK_TYPE,
  heartbeatCheckSchema,
  probeSpecOf,
  probeSpecSchema,
} from "../src/index.ts";

// Formats are left to the patterns zod writes beside them (every uuid also has its `pattern`).
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, formats: { uuid: true } });
const validate = ajv.compile(checkDefinitionJsonSchema);
const validateAny = ajv.compile(anyCheckDefinitionJsonSchema);

/** What the server accepts for any check (validateAnyCheck): a heartbeat check by its own schema, any other by the probe checks'. */
const serverAccepts = (input: unknown) =>
  ((input as { type?: unknown }).type === HEARTBEAT_CHECK_TYPE ? heartbeatCheckSchema : checkDefinitionSchema).safeParse(input).success;

const http = { name: "api", type: "http", url: "https://example.com/health" };

function issues(input: unknown) {
  const parsed = checkDefinitionSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

describe("check definitions", () => {
  it("fills the defaults users expect: every minute, 10 s timeout, on the core, 2xx expected", () => {
    const definition = checkDefinitionSchema.parse(http);
    expect(definition).toMatchObject({
      enabled: true,
      intervalSeconds: 60,
      timeoutMs: 10_000,
      runOn: { core: true },
      labels: {},
      assertions: [],
      method: "GET",
      followRedirects: true,
      maxRedirects: 10,
      tls: { verify: true },
      ipFamily: "any",
      expectStatus: ["2xx"],
      health: { policy: "any", failuresToUnhealthy: 3, successesToRecover: 2, graceSeconds: 30 },
    });
  });

  it("refuses a health window that could never trip, at the path of its failures", () => {
    expect(issues({ ...http, health: { window: { size: 3, failures: 4 } } })).toEqual([
      { path: "health.window.failures", message: expect.stringContaining("cannot exceed size") },
    ]);
  });

  it("keeps the health options out of what a probe receives", () => {
    expect(probeSpecOf(checkDefinitionSchema.parse({ ...http, health: { policy: "all" } }))).not.toHaveProperty("health");
  });

  it("runs on the selected satellites only when satellites are named without core", () => {
    expect(checkDefinitionSchema.parse({ ...http, runOn: { satellites: { regions: ["eu"] } } }).runOn).toEqual({
      core: false,
      satellites: { regions: ["eu"] },
    });
    expect(checkDefinitionSchema.parse({ ...http, runOn: { core: true, satellites: { tags: ["edge"] } } }).runOn).toEqual({
      core: true,
      satellites: { tags: ["edge"] },
    });
    expect(issues({ ...http, runOn: { core: false } })).toEqual([{ path: "runOn", message: expect.stringContaining("must run somewhere") }]);
  });

  it("reports each mistake at its path", () => {
    // Only the interval: the default timeout (10 s) is not blamed for the 5 s interval asked for.
    expect(issues({ ...http, intervalSeconds: 5 }).map((issue) => issue.path)).toEqual(["intervalSeconds"]);
    expect(issues({ ...http, intervalSeconds: 15, timeoutMs: 20_000 })).toEqual([
      { path: "timeoutMs", message: "timeoutMs cannot be longer than the interval (15 s)" },
    ]);
    expect(issues({ ...http, url: "ftp://x" })).toEqual([{ path: "url", message: "must be an http:// or https:// URL" }]);
    // A URL without its scheme is told that once, with itself as an example (not also "is not a valid URL").
    expect(issues({ ...http, url: "api.example.com:8443/health" })).toEqual([
      { path: "url", message: "must be an http:// or https:// URL (e.g. https://api.example.com:8443/health)" },
    ]);
    expect(issues({ ...http, url: "https://exa mple.com" })).toEqual([{ path: "url", message: "is not a valid URL" }]);
    // A long value is not echoed back.
    expect(issues({ ...http, url: `example.com/${"a".repeat(300)}` })).toEqual([{ path: "url", message: "must be an http:// or https:// URL" }]);
    expect(issues({ ...http, type: "HTTP" })).toEqual([{ path: "type", message: "type must be one of: http, tcp, dns, tls (did you mean http?)" }]);
    expect(issues({ name: "x", type: "icmp", host: "a" })[0]).toMatchObject({ path: "type", message: expect.stringContaining("http, tcp, dns, tls") });
    expect(issues({ ...http, assertions: [{ subject: "rcode", op: "eq", value: "NOERROR" }] })[0]).toMatchObject({
      path: "assertions.0.subject",
      message: expect.stringContaining("not a subject a http check has"),
    });
    expect(issues({ ...http, assertions: [{ subject: "status", op: "equals", value: 200 }] })[0]).toMatchObject({ path: "assertions.0.op" });
    expect(issues({ ...http, assertions: [{ subject: "body", op: "matches", value: "(a+)+\\1" }] })[0]).toMatchObject({
      path: "assertions.0.value",
      message: expect.stringContaining("backreferences"),
    });
    expect(issues({ ...http, assertions: [{ subject: "body", op: "matches", value: "a".repeat(600) }] })[0]).toMatchObject({ path: "assertions.0.value" });
  });

  it("accepts nested assertion trees and leaves only the probe's part for the agent", () => {
    const definition = checkDefinitionSchema.parse({
      ...http,
      labels: { team: "core" },
      assertions: [
        { subject: "status", op: "in", value: [200, 204] },
        {
          op: "or",
          of: [
            { subject: "json:$.status", op: "eq", value: "ok" },
            { op: "not", of: { subject: "header:x-degraded", op: "exists" } },
          ],
          onFail: "degrade",
        },
      ],
    });
    expect(definition.assertions[0]).toEqual({ subject: "status", op: "in", value: [200, 204], onFail: "fail" });
    const spec = probeSpecOf(definition);
    expect(spec).not.toHaveProperty("name");
    expect(spec).not.toHaveProperty("labels");
    expect(spec).not.toHaveProperty("runOn");
    expect(probeSpecSchema.parse(spec)).toEqual(spec);
  });

  const cases: Array<[string, unknown]> = [
    ["minimal http", http],
    ["tcp with send/expect", { name: "smtp", type: "tcp", host: "mail.example.com", port: 25, expect: "220" }],
    [
      "dns",
      {
        name: "mail exchangers",
        type: "dns",
        queryName: "example.com",
        recordType: "MX",
        server: "1.1.1.1",
        assertions: [{ subject: "answers", op: "contains", value: "mx" }],
      },
    ],
    ["dns without queryName", { name: "example.com", type: "dns" }],
    ["tls", { name: "cert", type: "tls", host: "example.com" }],
    ["interval 15 with timeout 15000", { ...http, intervalSeconds: 15, timeoutMs: 15_000 }],
    ["interval 15 with timeout 15001", { ...http, intervalSeconds: 15, timeoutMs: 15_001 }],
    ["interval 10 without timeout", { ...http, intervalSeconds: 10 }],
    ["timeout 60001", { ...http, timeoutMs: 60_001 }],
    ["unknown field", { ...http, retries: 3 }],
    ["unknown type", { name: "x", type: "icmp" }],
    ["blank name", { ...http, name: "  " }],
    ["status as class and range", { ...http, expectStatus: ["2xx", "301-308", 418] }],
    ["bad status", { ...http, expectStatus: ["2xy"] }],
    ["subject from another type", { ...http, assertions: [{ subject: "rcode", op: "eq", value: "NOERROR" }] }],
    ["json path", { ...http, assertions: [{ subject: 'json:$.items[0]["a b"]', op: "exists" }] }],
    ["json path with a filter", { ...http, assertions: [{ subject: "json:$..[?(@.a)]", op: "exists" }] }],
    ["exists with a value", { ...http, assertions: [{ subject: "header:etag", op: "exists", value: 1 }] }],
    ["lt on a string", { ...http, assertions: [{ subject: "responseTimeMs", op: "lt", value: "fast" }] }],
    ["satellites by nothing", { ...http, runOn: { satellites: {} } }],
    ["satellite id not a uuid", { ...http, runOn: { satellites: { ids: ["eu-1"] } } }],
    ["label key upper case", { ...http, labels: { Team: "x" } }],
    ["empty assertion group", { ...http, assertions: [{ op: "and", of: [] }] }],
    ["health with a quorum and a window", { ...http, health: { policy: { quorum: 2 }, window: { size: 5, failures: 3 }, graceSeconds: 0 } }],
    ["health by percent", { ...http, health: { policy: { percent: 50 } } }],
    ["health policy all", { ...http, health: { policy: "all", failuresToUnhealthy: 1, successesToRecover: 1 } }],
    ["health window failures above size", { ...http, health: { window: { size: 3, failures: 4 } } }],
    ["health window too large", { ...http, health: { window: { size: 51, failures: 4 } } }],
    ["health quorum zero", { ...http, health: { policy: { quorum: 0 } } }],
    ["health percent zero", { ...http, health: { policy: { percent: 0 } } }],
    ["health unknown policy", { ...http, health: { policy: "most" } }],
    ["health unknown field", { ...http, health: { retries: 2 } }],
  ];

  it.each(cases)("the JSON Schema agrees with the server on: %s", (_name, input) => {
    const server = checkDefinitionSchema.safeParse(input).success;
    expect(validate(input), JSON.stringify(validate.errors?.slice(0, 3))).toBe(server);
  });

  const heartbeat = { name: "nightly backup", type: "heartbeat" };
  const anyCases: Array<[string, unknown]> = [
    ["minimal heartbeat", heartbeat],
    [
      "heartbeat with period, grace, labels and health",
      { ...heartbeat, periodSeconds: 86_400, graceSeconds: 600, labels: { team: "ops" }, health: { policy: "any" } },
    ],
    ["heartbeat period below 30 s", { ...heartbeat, periodSeconds: 29 }],
    ["heartbeat period above a year", { ...heartbeat, periodSeconds: 365 * 86_400 + 1 }],
    ["heartbeat negative grace", { ...heartbeat, graceSeconds: -1 }],
    ["heartbeat fractional period", { ...heartbeat, periodSeconds: 60.5 }],
    ["heartbeat with a url", { ...heartbeat, url: "https://example.com" }],
    ["heartbeat with runOn", { ...heartbeat, runOn: { core: true } }],
    ["heartbeat with an interval", { ...heartbeat, intervalSeconds: 60 }],
    ["heartbeat without a name", { type: "heartbeat" }],
    ["http with a period", { ...http, periodSeconds: 60 }],
    ...cases,
  ];

  it.each(anyCases)("the JSON Schema of every type (GET /checks/schema) agrees with the server on: %s", (_name, input) => {
    expect(validateAny(input), JSON.stringify(validateAny.errors?.slice(0, 3))).toBe(serverAccepts(input));
  });
});
