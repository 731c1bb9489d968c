// The published JSON Schema of a definition accepts and refuses exactly what the core's zod schema does, so editors agree with the core.
import { randomBytes } from "node:crypto";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutomationRoutes } from "../../../src/automations/api/automation-routes.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

// The JSON Schema editors get from GET /automations/schema must refuse what the core refuses
// and accept what it accepts: each definition below goes to both, through a real validator.

let instance: TestInstance;
let app: Hono;
let validate: ValidateFunction;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "definition-json-schema");
  const box = createSecretBox(randomBytes(32));
  const notifications = new NotificationService({ pool: instance.pool, box, senders: createNotificationSenders() });
  app = await createApiApp(instance.pool, { "/automations": createAutomationRoutes({ pool: instance.pool, box, notifications, ...satelliteCompiler() }) });
  const schema = await callApi(app, "GET", "/api/v1/automations/schema");
  expect(schema.status).toBe(200);
  // Strict: a keyword the validator does not know would be a keyword editors ignore. Only Ajv's
  // own lint that a `required` name its `properties` in the same subschema is off: exactly-one-of
  // is `oneOf: [{ required: [kind] }, …]` beside the object's properties, as the spec allows.
  validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema.body);
});

afterAll(async () => {
  await instance?.stop();
});

const LOG = { log: { message: "{{ trigger.payload.name }} lost" } };
const base = { name: "schema-check", triggers: [{ event: "satellite.heartbeat_lost" }], actions: [LOG] };
const withActions = (...actions: unknown[]) => ({ ...base, actions });
const withCondition = (condition: unknown) => ({ ...base, conditions: [condition] });
const matches = (right: unknown) => withCondition({ compare: { left: "trigger.payload.name", op: "matches", right } });
const MAX_MS = 30 * 86_400_000;

const invalid: Array<[string, unknown]> = [
  ["an empty action", withActions({})],
  ["an action with only step options", withActions({ id: "a", continueOnError: true })],
  ["an action with two kinds", withActions({ ...LOG, stop: {} })],
  ["a nested action with two kinds", withActions({ parallel: { branches: [[{ ...LOG, delay: { duration: "1s" } }]] } })],
  ["an empty condition", withCondition({})],
  ["a condition with two kinds", withCondition({ and: [], not: { and: [] } })],
  ["a delay of 31 days", withActions({ delay: { duration: "31d" } })],
  ["a delay of 721 hours", withActions({ delay: { duration: "721h" } })],
  ["a delay of 43,201 minutes", withActions({ delay: { duration: "43201m" } })],
  ["a delay one millisecond past 30 days", withActions({ delay: { duration: MAX_MS + 1 } })],
  ["a delay of 30 days and a millisecond, in ms", withActions({ delay: { duration: `${MAX_MS + 1}ms` } })],
  ["a delay of a huge number of days", withActions({ delay: { duration: "99999999999999999999d" } })],
  ["a duration in words", withActions({ delay: { duration: "5 minutes" } })],
  ["a negative duration", withActions({ delay: { duration: -1 } })],
  ["a wait_until timeout past 30 days", withActions({ wait_until: { condition: { and: [] }, timeout: "31d" } })],
  ["a for: past 30 days", { ...base, triggers: [{ event: "satellite.heartbeat_lost", for: "31d" }] }],
  ["a matches pattern that is a number", matches(5)],
  ["a matches pattern that is a path, not a literal", matches("trigger.payload.region")],
  ["a matches pattern over 512 characters", matches({ value: "a".repeat(513) })],
  ["a quoted matches pattern over 512 characters", matches(`'${"a".repeat(513)}'`)],
  ["an unknown comparison", withCondition({ compare: { left: 1, op: "~=", right: 1 } })],
  ["a blank name", { ...base, name: "   " }],
  ["an unknown field", { ...base, owner: "ops" }],
  ["no actions", { ...base, actions: [] }],
];

const valid: Array<[string, unknown]> = [
  ["the smallest definition", base],
  [
    "a delay of exactly 30 days, in every unit",
    withActions(
      { delay: { duration: "30d" } },
      { delay: { duration: "720h" } },
      { delay: { duration: "43200m" } },
      { delay: { duration: MAX_MS } },
      { delay: { duration: `${MAX_MS}ms` } },
    ),
  ],
  ["a duration with leading zeros", withActions({ delay: { duration: "0005s" } })],
  ["a for: of 2 minutes", { ...base, triggers: [{ event: "satellite.heartbeat_lost", for: "2m" }] }],
  ["a quoted matches pattern", matches("'^eu-\\d+$'")],
  ["a double-quoted matches pattern with an escaped quote", matches(`"^it\\"s$"`)],
  ["a matches pattern of exactly 512 characters", matches({ value: "a".repeat(512) })],
  ["an empty and", withCondition({ and: [] })],
  [
    "every kind of step, nested",
    withActions(
      { id: "first", continueOnError: true, ...LOG },
      { choose: { when: [{ conditions: [{ not: { and: [] } }], then: [{ stop: {} }] }], else: [{ parallel: { branches: [[LOG]] } }] } },
    ),
  ],
  ["a name with spaces around it", { ...base, name: "  padded  " }],
];

async function serverAccepts(definition: unknown): Promise<boolean> {
  const answer = await callApi<{ valid: boolean }>(app, "POST", "/api/v1/automations/validate", definition);
  expect(answer.status, answer.text).toBe(200);
  return answer.body.valid;
}

describe("the published automation JSON Schema", () => {
  it.each(invalid)("refuses %s, as the core does", async (_name, definition) => {
    expect(await serverAccepts(definition)).toBe(false);
    expect(validate(definition)).toBe(false);
  });

  it.each(valid)("accepts %s, as the core does", async (_name, definition) => {
    expect(await serverAccepts(definition)).toBe(true);
    expect(validate(definition), JSON.stringify(validate.errors)).toBe(true);
  });
});
