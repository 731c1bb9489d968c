// The automations API: create, validate, read, replace, delete, enable and disable; errors at their paths, secrets redacted, YAML bodies.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutomationRoutes } from "../../../src/automations/api/automation-routes.ts";
import { createTriggerRoutes } from "../../../src/automations/api/trigger-routes.ts";
import { AUTOMATIONS_CHANGED_CHANNEL, type AutomationChangeNotice, type AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { openSecrets } from "../../../src/automations/definitions/webhook-secrets.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import type { Hono } from "hono";
import { parse } from "yaml";
import { createTestDatabase } from "../../support/database.ts";
import { type Answer, callApi, createApiApp, TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

let instance: TestInstance;
let app: Hono;
const notices: AutomationChangeNotice[] = [];
const noticed = createSignal();
let unsubscribe: () => Promise<void>;
const box = createSecretBox(randomBytes(32));

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "automations-api");
  const options = satelliteCompiler();
  app = await createApiApp(instance.pool, {
    "/automations": createAutomationRoutes({
      pool: instance.pool,
      box,
      notifications: new NotificationService({ pool: instance.pool, box, senders: createNotificationSenders() }),
      ...options,
    }),
    "/triggers": createTriggerRoutes({ triggers: options.triggers }),
  });
  unsubscribe = await instance.hub.subscribe(AUTOMATIONS_CHANGED_CHANNEL, (payload) => {
    notices.push(JSON.parse(payload) as AutomationChangeNotice);
    noticed.emit();
  });
});

afterAll(async () => {
  await unsubscribe?.();
  await instance?.stop();
});

const call = <Body = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string | null) =>
  callApi<Body>(app, method, `/api/v1${path}`, body, token);

let named = 0;
function definition(overrides: Record<string, unknown> = {}) {
  named += 1;
  return {
    name: `automation-${named}`,
    triggers: [{ event: "satellite.heartbeat_lost" }],
    actions: [{ log: { message: "{{ trigger.payload.name }} lost its heartbeat" } }],
    ...overrides,
  };
}

async function create(overrides: Record<string, unknown> = {}): Promise<AutomationView> {
  const answer = await call<AutomationView>("POST", "/automations", definition(overrides));
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

const countRows = async () => Number((await instance.pool.query<{ n: string }>("SELECT count(*) AS n FROM automations")).rows[0]!.n);
const issuePaths = (answer: Answer) => (answer.body.error as { details: { issues: Array<{ path: string }> } }).details.issues.map((issue) => issue.path);
const waitForNotice = (id: string, op: AutomationChangeNotice["op"]) =>
  waitFor(() => notices.some((notice) => notice.id === id && notice.op === op), noticed.subscribe, 5_000, `${op} notice for ${id}`);

describe("authentication", () => {
  it("answers 401 without the admin token and saves nothing", async () => {
    const before = await countRows();
    expect((await call("POST", "/automations", definition(), null)).status).toBe(401);
    expect((await call("GET", "/triggers", undefined, "wrong-token-0123456789")).status).toBe(401);
    expect(await countRows()).toBe(before);
  });
});

describe("POST /api/v1/automations", () => {
  it("saves a definition with its defaults filled in and announces it", async () => {
    const answer = await call<AutomationView>("POST", "/automations", definition({ name: "  Page ops  ", description: "Pages ops" }));

    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Page ops",
      description: "Pages ops",
      enabled: true,
      triggers: [{ event: "satellite.heartbeat_lost" }],
      conditions: [],
      actions: [{ continueOnError: false, log: { message: "{{ trigger.payload.name }} lost its heartbeat" } }],
      mode: "single",
      maxRuns: 10,
      concurrency: "automation",
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const { rows } = await instance.pool.query("SELECT name, enabled, trigger_events FROM automations WHERE id = $1", [answer.body.id]);
    expect(rows).toEqual([{ name: "Page ops", enabled: true, trigger_events: ["satellite.heartbeat_lost"] }]);
    await waitForNotice(answer.body.id, "created");
  });

  it("answers 400 listing each invalid path and saves nothing", async () => {
    const before = await countRows();
    const answer = await call("POST", "/automations", {
      name: "broken",
      triggers: [{ event: "satellite.exploded" }],
      conditions: [{ compare: { left: "trigger.payload.regoin", op: "==", right: "'eu'" } }],
      actions: [{ delay: { duration: "31d" } }, { explode: {} }, { log: { message: "{{ trigger.payload.name" } }],
    });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "invalid_automation", message: expect.stringContaining("actions.0.delay.duration") } });
    expect(issuePaths(answer)).toEqual(["actions.0.delay.duration", "actions.1.explode", "actions.1"]);
    // Schema errors come first; once the shape is right, the compiler finds the rest.
    const semantic = await call("POST", "/automations", {
      name: "broken",
      triggers: [{ event: "satellite.connected" }, { event: "satellite.exploded" }],
      conditions: [{ compare: { left: "trigger.payload.regoin", op: "==", right: "'eu'" } }],
      actions: [{ log: { message: "{{ trigger.payload.name" } }, { webhook: { url: "https://x.example", headers: { a: "{{ nope }}" } } }],
    });
    expect(semantic.status).toBe(400);
    expect(issuePaths(semantic)).toEqual(["triggers.1.event", "conditions.0.compare.left", "actions.0.log.message", "actions.1.webhook.headers.a"]);
    expect(await countRows()).toBe(before);
  });

  it("answers 400 to a body that is not JSON and 409 to a taken name", async () => {
    expect((await call("POST", "/automations", "{ name:")).status).toBe(400);
    const first = await create();
    const twin = await call("POST", "/automations", definition({ name: first.name }));
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ error: { code: "automation_name_taken" } });
  });
});

describe("POST /api/v1/automations/validate", () => {
  it("reports a valid definition with its events, and saves nothing", async () => {
    const before = await countRows();
    const answer = await call("POST", "/automations/validate", definition());
    expect(answer).toMatchObject({ status: 200, body: { valid: true, errors: [], events: ["satellite.heartbeat_lost"] } });
    expect(await countRows()).toBe(before);
  });

  it("lists each error with its path, and saves nothing", async () => {
    const before = await countRows();
    const answer = await call("POST", "/automations/validate", definition({ triggers: [{ event: "nope" }], actions: [{ stop: { reason: "{{ vars.x" } }] }));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      valid: false,
      errors: [
        { path: "triggers.0.event", message: expect.stringContaining('unknown trigger event "nope"') },
        { path: "actions.0.stop.reason", message: expect.stringContaining("not closed") },
      ],
    });
    expect(await countRows()).toBe(before);
  });
});

describe("reading, replacing and deleting", () => {
  it("serves the definition's JSON Schema, which no automation id shadows", async () => {
    const answer = await call<{ type: string; properties: Record<string, unknown> }>("GET", "/automations/schema");
    expect(answer.status).toBe(200);
    expect(answer.body.type).toBe("object");
    expect(Object.keys(answer.body.properties)).toEqual(
      expect.arrayContaining(["name", "triggers", "conditions", "actions", "mode", "maxRuns", "concurrency"]),
    );
  });

  it("lists and reads automations", async () => {
    const automation = await create();
    expect((await call("GET", `/automations/${automation.id}`)).body).toEqual(automation);
    // Listed with its newest run: none yet.
    expect((await call<{ automations: AutomationView[] }>("GET", "/automations")).body.automations).toContainEqual({ ...automation, lastRun: null });
  });

  it("replaces a definition, bumping its version, and refuses an invalid one without changing it", async () => {
    const automation = await create();
    const replaced = await call<AutomationView>(
      "PUT",
      `/automations/${automation.id}`,
      definition({ name: automation.name, enabled: false, triggers: [{ event: "satellite.connected" }, { event: "satellite.disconnected" }] }),
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id: automation.id,
      version: 2,
      enabled: false,
      triggers: [{ event: "satellite.connected" }, { event: "satellite.disconnected" }],
    });
    const { rows } = await instance.pool.query("SELECT trigger_events FROM automations WHERE id = $1", [automation.id]);
    expect(rows[0]).toEqual({ trigger_events: ["satellite.connected", "satellite.disconnected"] });
    await waitForNotice(automation.id, "updated");

    const invalid = await call("PUT", `/automations/${automation.id}`, definition({ actions: [{ delay: { duration: "45d" } }] }));
    expect(invalid.status).toBe(400);
    expect(issuePaths(invalid)).toEqual(["actions.0.delay.duration"]);
    expect((await call("GET", `/automations/${automation.id}`)).body).toEqual(replaced.body);
  });

  it("takes back what a GET answered, edited: read-only fields that match are ignored", async () => {
    const automation = await create();
    const read = await call<AutomationView>("GET", `/automations/${automation.id}`);
    const replaced = await call<AutomationView>("PUT", `/automations/${automation.id}`, { ...read.body, description: "edited" });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ id: automation.id, version: 2, createdAt: automation.createdAt, description: "edited" });
    // The id in any case names the same uuid.
    const again = await call<AutomationView>("PUT", `/automations/${automation.id}`, {
      ...replaced.body,
      id: automation.id.toUpperCase(),
      description: "again",
    });
    expect(again.status, again.text).toBe(200);
  });

  it("refuses a read-only field that does not match: another id is a 400, a stale version a 409, and nothing changes", async () => {
    const automation = await create();
    const other = await create();
    const wrongId = await call("PUT", `/automations/${automation.id}`, { ...automation, id: other.id });
    expect(wrongId.status).toBe(400);
    expect(wrongId.body).toMatchObject({
      error: { code: "invalid_automation", details: { issues: [{ path: "id", message: expect.stringContaining(`the URL names ${automation.id}`) }] } },
    });
    expect(issuePaths(await call("PUT", `/automations/${automation.id}`, { ...automation, createdAt: "2020-01-01T00:00:00.000Z" }))).toEqual(["createdAt"]);
    expect(issuePaths(await call("PUT", `/automations/${automation.id}`, { ...automation, version: "1" }))).toEqual(["version"]);

    const edited = await call<AutomationView>("PUT", `/automations/${automation.id}`, { ...automation, description: "first edit" });
    expect(edited.status).toBe(200);
    // A second client edits what it read before the first edit.
    const stale = await call("PUT", `/automations/${automation.id}`, { ...automation, description: "second edit" });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: { code: "automation_changed", message: expect.stringContaining("GET it again") } });
    expect((await call<AutomationView>("GET", `/automations/${automation.id}`)).body).toEqual(edited.body);
  });

  it("deletes an automation and announces it", async () => {
    const automation = await create();
    const answer = await call("DELETE", `/automations/${automation.id}`);
    expect(answer.status).toBe(204);
    expect((await call("GET", `/automations/${automation.id}`)).status).toBe(404);
    await waitForNotice(automation.id, "deleted");
  });
});

describe("enable and disable", () => {
  it("switches an automation off and on, announcing each", async () => {
    const automation = await create();
    const disabled = await call<AutomationView>("POST", `/automations/${automation.id}/disable`);
    expect(disabled.body).toMatchObject({ id: automation.id, enabled: false, version: 1 });
    await waitForNotice(automation.id, "disabled");
    const { rows } = await instance.pool.query("SELECT enabled FROM automations WHERE id = $1", [automation.id]);
    expect(rows).toEqual([{ enabled: false }]);

    const enabled = await call<AutomationView>("POST", `/automations/${automation.id}/enable`);
    expect(enabled.body).toMatchObject({ enabled: true });
    await waitForNotice(automation.id, "enabled");
  });

  it("does not announce a change that rolled back", async () => {
    const before = notices.length;
    const first = await create();
    const second = await create();
    expect((await call("PUT", `/automations/${second.id}`, definition({ name: first.name }))).status).toBe(409);
    // NOTIFYs arrive in commit order: once a later one is in, an earlier one would be too.
    await call("POST", `/automations/${first.id}/disable`);
    await waitForNotice(first.id, "disabled");
    expect(notices.slice(before).filter((notice) => notice.id === second.id)).toEqual([{ id: second.id, op: "created" }]);
  });
});

describe("unknown automations", () => {
  it.each([randomUUID(), "not-a-uuid"])("answers 404 for %s on every route", async (id) => {
    const answers = [
      await call("GET", `/automations/${id}`),
      await call("PUT", `/automations/${id}`, definition()),
      await call("POST", `/automations/${id}/enable`),
      await call("POST", `/automations/${id}/disable`),
      await call("DELETE", `/automations/${id}`),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "automation_not_found" } });
    }
  });
});

describe("GET /api/v1/triggers", () => {
  it("lists every registered trigger with its payload's JSON Schema", async () => {
    const answer = await call<{ triggers: Array<{ id: string; payloadSchema: { properties: Record<string, unknown> } }> }>("GET", "/triggers");
    expect(answer.status).toBe(200);
    expect(answer.body.triggers.map((trigger) => trigger.id)).toEqual(["satellite.connected", "satellite.disconnected", "satellite.heartbeat_lost"]);
    expect(answer.body.triggers[2]).toMatchObject({
      displayName: "Satellite heartbeat lost",
      description: expect.any(String),
      payloadSchema: { type: "object", required: expect.arrayContaining(["satelliteId", "region"]) },
    });
    expect(Object.keys(answer.body.triggers[2]!.payloadSchema.properties).sort()).toEqual([
      "affectedChecks",
      "lastSeenAt",
      "name",
      "region",
      "satelliteId",
      "status",
    ]);
  });
});

describe("webhook secrets", () => {
  const signed = (secret: string, nested = `${secret}-nested`) => ({
    actions: [
      { id: "hook", webhook: { url: "https://hooks.example.com/in", secret } },
      { parallel: { branches: [[{ webhook: { url: "https://hooks.example.com/b", secret: nested } }]] } },
    ],
  });
  /** The secrets as stored (sealed: the row never holds one in plain text), opened. */
  const storedSecrets = async (id: string) => {
    const { definition } = (await instance.pool.query<{ definition: unknown }>("SELECT definition FROM automations WHERE id = $1", [id])).rows[0]!;
    expect(JSON.stringify(definition)).not.toMatch(/s3cr3t-value|new-secret/);
    return [...JSON.stringify(openSecrets(definition, box, id)).matchAll(/"secret":"([^"]*)"/g)].map((match) => match[1]);
  };

  it("never returns a secret, and keeps the stored one when a definition comes back redacted", async () => {
    const created = await call<AutomationView>("POST", "/automations", definition(signed("s3cr3t-value")));
    expect(created.status).toBe(201);
    for (const answer of [
      created,
      await call("GET", `/automations/${created.body.id}`),
      await call("GET", "/automations"),
      await call("POST", `/automations/${created.body.id}/disable`),
    ]) {
      expect(answer.text).not.toContain("s3cr3t-value");
    }
    expect(created.body.actions[0]).toMatchObject({ webhook: { secret: "<redacted>" } });

    const replaced = await call<AutomationView>("PUT", `/automations/${created.body.id}`, {
      ...created.body,
      id: undefined,
      version: undefined,
      createdAt: undefined,
      updatedAt: undefined,
      description: "edited",
    });
    expect(replaced.status, replaced.text).toBe(200);
    expect(await storedSecrets(created.body.id)).toEqual(["s3cr3t-value", "s3cr3t-value-nested"]);

    const rotated = await call("PUT", `/automations/${created.body.id}`, definition({ name: created.body.name, ...signed("new-secret") }));
    expect(rotated.status).toBe(200);
    expect(await storedSecrets(created.body.id)).toEqual(["new-secret", "new-secret-nested"]);
  });

  it("keeps a credential header the API showed <redacted> when the definition comes back, and takes a new value", async () => {
    const hook = (authorization: string) =>
      definition({ actions: [{ webhook: { url: "https://hooks.example.com/x", headers: { Authorization: authorization, "X-Team": "ops" } } }] });
    const created = await call<AutomationView>("POST", "/automations", hook("Bearer sk-header-1"));
    expect(created.status, created.text).toBe(201);
    expect(created.text).not.toContain("sk-header-1");
    expect(created.body.actions[0]).toMatchObject({ webhook: { headers: { Authorization: "<redacted>", "X-Team": "ops" } } });
    const authorizationOf = async () => {
      const { definition: stored } = (await instance.pool.query<{ definition: unknown }>("SELECT definition FROM automations WHERE id = $1", [created.body.id]))
        .rows[0]!;
      expect(JSON.stringify(stored)).not.toContain("sk-header");
      return (openSecrets(stored, box, created.body.id) as { actions: Array<{ webhook: { headers: Record<string, string> } }> }).actions[0]!.webhook.headers
        .Authorization;
    };

    expect((await call("PUT", `/automations/${created.body.id}`, { ...hook("<redacted>"), name: created.body.name })).status).toBe(200);
    expect(await authorizationOf()).toBe("Bearer sk-header-1");
    expect((await call("PUT", `/automations/${created.body.id}`, { ...hook("Bearer sk-header-2"), name: created.body.name })).status).toBe(200);
    expect(await authorizationOf()).toBe("Bearer sk-header-2");
    const refused = await call("POST", "/automations", hook("<redacted>"));
    expect(issuePaths(refused)).toEqual(["actions.0.webhook.headers.Authorization"]);
  });

  it("leave the history with field names only: who created, disabled, replaced and deleted, and why", async () => {
    const created = await call<AutomationView>("POST", "/automations", definition(signed("s3cr3t-value")));
    const id = created.body.id;
    await call("POST", `/automations/${id}/disable`);
    const { id: _id, version: _version, createdAt: _createdAt, updatedAt: _updatedAt, ...editable } = created.body;
    expect((await call("PUT", `/automations/${id}`, { ...editable, description: "edited" })).status).toBe(200);
    expect((await call("DELETE", `/automations/${id}`)).status).toBe(204);
    const history = await call<{ changes: Array<Record<string, unknown>> }>("GET", `/automations/${id}/history`);
    expect(history.status, history.text).toBe(200);
    expect(history.text).not.toMatch(/s3cr3t-value|sealed/);
    expect(history.body.changes).toMatchObject([
      { action: "delete", revision: 2, changedFields: [] },
      { action: "update", revision: 2, changedFields: ["description", "enabled"] },
      { action: "disable", revision: 1, changedFields: ["enabled"] },
      { action: "create", revision: 1, changedFields: expect.arrayContaining(["actions", "name", "triggers"]) },
    ]);
    for (const change of history.body.changes) expect(change).toMatchObject({ actor: { type: "token", id: "admin" }, cause: { type: "api-request" } });
    expect((await call("GET", `/automations/${randomUUID()}/history`)).body).toMatchObject({ error: { code: "automation_not_found" } });
  });

  it("refuses <redacted> where no secret is stored, at its path", async () => {
    const answer = await call("POST", "/automations", definition(signed("<redacted>", "<redacted>")));
    expect(answer.status).toBe(400);
    expect(issuePaths(answer)).toEqual(["actions.0.webhook.secret", "actions.1.parallel.branches.0.0.webhook.secret"]);
  });
});

describe("YAML definitions", () => {
  async function yaml(method: string, path: string, text: string): Promise<Answer> {
    const response = await app.request(`/api/v1${path}`, {
      method,
      headers: { "content-type": "application/yaml", authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: text,
    });
    const body = await response.text();
    return { status: response.status, text: body, body: JSON.parse(body) as Record<string, unknown> };
  }

  it("accepts a definition authored as YAML, same as JSON", async () => {
    const answer = await yaml(
      "POST",
      "/automations",
      [
        "name: yaml-authored",
        "triggers:",
        "  - event: satellite.disconnected",
        "    filter:",
        "      compare: { left: trigger.payload.region, op: in, right: [eu-west, eu-central] }",
        "actions:",
        "  - delay: { duration: 5s }",
        "  - log: { message: '{{ trigger.payload.name }} went away' }",
      ].join("\n"),
    );
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body).toMatchObject({
      name: "yaml-authored",
      actions: [{ delay: { duration: "5s" } }, { log: { message: "{{ trigger.payload.name }} went away" } }],
    });
  });

  it("answers an automation as YAML when asked, and takes that YAML back, edited, with a PUT", async () => {
    const created = await call<AutomationView>("POST", "/automations", {
      ...definition({ conditions: [{ compare: { left: "trigger.payload.region", op: "matches", right: "'^eu-'" } }] }),
      actions: [
        {
          webhook: {
            url: "https://hooks.example.com/{{ trigger.payload.satelliteId }}",
            secret: "whsec-yaml",
            body: { text: "{{ trigger.payload.name }} is gone" },
          },
        },
      ],
    });
    expect(created.status, created.text).toBe(201);
    const response = await app.request(`/api/v1/automations/${created.body.id}`, {
      headers: { accept: "application/yaml", authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/yaml/);
    const text = await response.text();
    expect(text).not.toContain("whsec-yaml");
    expect(parse(text)).toEqual(created.body);

    const replaced = await yaml("PUT", `/automations/${created.body.id}`, text.replace(/^name: .*$/m, "name: renamed-from-yaml"));
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ name: "renamed-from-yaml", version: 2, actions: [{ webhook: { secret: "<redacted>" } }] });
    // JSON stays the default, and a client preferring it gets it.
    const preferred = await app.request(`/api/v1/automations/${created.body.id}`, {
      headers: { accept: "application/json, application/yaml;q=0.5", authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(preferred.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("answers invalid YAML with its line and column, and invalid definitions with their paths", async () => {
    const broken = await yaml("POST", "/automations/validate", "name: x\ntriggers: [\n");
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { code: "invalid_input", message: expect.stringMatching(/not valid YAML at line \d+, column \d+/) } });

    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...["b", "c", "d", "e"].map((name, i) => `${name}: &${name} [${Array(9).fill(`*${"abcd"[i]}`).join(", ")}]`),
    ].join("\n");
    const exploded = await yaml("POST", "/automations/validate", bomb);
    expect(exploded.status).toBe(400);
    expect(exploded.body).toMatchObject({ error: { code: "invalid_input", message: expect.stringContaining("alias") } });

    const invalid = await yaml("POST", "/automations/validate", "name: x\ntriggers:\n  - event: satellite.connected\nactions:\n  - delay: { duration: 40d }\n");
    expect(invalid.body).toEqual({ valid: false, errors: [{ path: "actions.0.delay.duration", message: "duration must be at most 30 days" }] });
  });
});
