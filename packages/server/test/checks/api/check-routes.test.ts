// Proves /api/v1/checks end to end on a real PostgreSQL: CRUD in JSON and YAML, merge patches, enable/disable, sealed headers, the private-target rule, bad input that stores nothing, and the NOTIFY of every write.
import { randomBytes, randomUUID } from "node:crypto";
import { anyCheckDefinitionJsonSchema } from "@vantage/protocol";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHECKS_CHANNEL, type CheckChangeNotice, CheckStore, type CheckView, createCheckRoutes } from "../../../src/checks/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { createCheckSummaryRoutes, createSummaryReader } from "../../../src/checks/api/summary-routes.ts";
import { type Answer, callApi, createApiApp, TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { createToken } from "../../support/auth/accounts.ts";
import { createTestDatabase } from "../../support/database.ts";
import { type CollectedNotifications, collectNotifications, startTestInstance, type TestInstance } from "../../support/instance.ts";

let instance: TestInstance;
let app: Hono;
/** The same API over the same database, for a core started with VANTAGE_ALLOW_PRIVATE_TARGETS=true. */
let permissiveApp: Hono;
let store: CheckStore;
let notices: CollectedNotifications<CheckChangeNotice>;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "checks-api");
  store = new CheckStore({ pool: instance.pool, box: createSecretBox(randomBytes(32)) });
  const summaries = createSummaryReader({ pool: instance.pool, health: { getMany: async () => new Map() } });
  app = await createApiApp(instance.pool, {
    "/checks": createCheckRoutes({ store, allowPrivateTargets: false, pool: instance.pool, now: Date.now, summaries }),
  });
  permissiveApp = await createApiApp(instance.pool, {
    "/checks": createCheckRoutes({ store, allowPrivateTargets: true, pool: instance.pool, now: Date.now, summaries }),
  });
  notices = await collectNotifications(instance.hub, CHECKS_CHANNEL);
});

afterAll(async () => {
  await notices?.stop();
  await instance?.stop();
});

const call = <Body = CheckView>(method: string, path: string, body?: unknown, token?: string | null) =>
  callApi<Body>(app, method, `/api/v1/checks${path}`, body, token);

let named = 0;
/** A valid http check with a name of its own; its target is a loopback port nothing here contacts. */
function httpCheck(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  named += 1;
  return { name: `check-${String(named).padStart(3, "0")}`, type: "http", url: "http://127.0.0.1:9/health", ...overrides };
}

async function create(body: Record<string, unknown> = httpCheck()): Promise<CheckView> {
  const answer = await call("POST", "", body);
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

const countRows = async () => Number((await instance.pool.query<{ n: string }>("SELECT count(*) AS n FROM checks")).rows[0]!.n);
const issuesOf = (answer: Answer<unknown>) =>
  (answer.body as { error: { details: { issues: Array<{ path: string; message: string }> } } }).error.details.issues;
const issuePaths = (answer: Answer<unknown>) => issuesOf(answer).map((issue) => issue.path);
/** Everything of the row as PostgreSQL prints it: what a dump or a curious reader of the table sees. */
const rowText = async (id: string) => (await instance.pool.query<{ text: string }>("SELECT c::text AS text FROM checks c WHERE id = $1", [id])).rows[0]!.text;
const waitForNotice = (expected: CheckChangeNotice) =>
  notices.waitFor((notice) => JSON.stringify(notice) === JSON.stringify(expected), `notice ${JSON.stringify(expected)}`);
const editable = (view: CheckView) => {
  const {
    id: _id,
    revision: _revision,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    status: _status,
    statusSince: _statusSince,
    statusReason: _statusReason,
    ...definition
  } = view;
  return definition;
};

describe("authentication", () => {
  it("answers 401 without the admin token and saves nothing", async () => {
    const before = await countRows();
    expect((await call("POST", "", httpCheck(), null)).status).toBe(401);
    expect(await countRows()).toBe(before);
  });
});

describe("creating and reading", () => {
  it("saves a definition with its defaults, copies the listed columns, and announces revision 1", async () => {
    const answer = await call(
      "POST",
      "",
      httpCheck({ name: "  api health  ", labels: { env: "prod" }, runOn: { core: true, satellites: { regions: ["eu"] } } }),
    );

    expect(answer.status, answer.text).toBe(201);
    expect(answer.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "api health",
      type: "http",
      url: "http://127.0.0.1:9/health",
      method: "GET",
      headers: {},
      followRedirects: true,
      maxRedirects: 10,
      tls: { verify: true },
      ipFamily: "any",
      expectStatus: ["2xx"],
      enabled: true,
      intervalSeconds: 60,
      timeoutMs: 10_000,
      runOn: { core: true, satellites: { regions: ["eu"] } },
      labels: { env: "prod" },
      assertions: [],
      health: { policy: "any", failuresToUnhealthy: 3, successesToRecover: 2, graceSeconds: 30 },
      revision: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      // Never evaluated: unknown since it was created.
      status: "unknown",
      statusSince: answer.body.createdAt,
      statusReason: "no results yet",
    });
    // In the order people read them (jsonb sorts keys by length: tls, url, name …).
    expect(Object.keys(answer.body)).toEqual([
      "id",
      "name",
      "type",
      "enabled",
      "url",
      "method",
      "headers",
      "followRedirects",
      "maxRedirects",
      "tls",
      "ipFamily",
      "expectStatus",
      "intervalSeconds",
      "timeoutMs",
      "runOn",
      "labels",
      "assertions",
      "health",
      "revision",
      "createdAt",
      "updatedAt",
      "status",
      "statusSince",
      "statusReason",
    ]);
    const { rows } = await instance.pool.query(
      "SELECT name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, revision FROM checks WHERE id = $1",
      [answer.body.id],
    );
    expect(rows).toEqual([
      {
        name: "api health",
        type: "http",
        enabled: true,
        interval_seconds: 60,
        timeout_ms: 10_000,
        labels: { env: "prod" },
        run_on_core: true,
        run_on_satellites: { regions: ["eu"] },
        revision: 1,
      },
    ]);
    await waitForNotice({ id: answer.body.id, revision: 1 });
  });

  it("reads a check back by id, and answers 404 for an id that names none", async () => {
    const created = await create(httpCheck({ type: "tcp", url: undefined, host: "127.0.0.1", port: 5432, runOn: { satellites: { tags: ["db"] } } }));
    expect(await call("GET", `/${created.id}`)).toMatchObject({ status: 200, body: created });
    expect(await call("GET", `/${created.id.toUpperCase()}`)).toMatchObject({ status: 200, body: created });
    for (const id of [randomUUID(), "not-a-uuid"]) {
      expect(await call("GET", `/${id}`)).toMatchObject({ status: 404, body: { error: { code: "check_not_found" } } });
    }
  });

  it("refuses a second check with a taken name with 409", async () => {
    const first = await create();
    const before = await countRows();
    const answer = await call("POST", "", httpCheck({ name: first.name }));
    expect(answer).toMatchObject({ status: 409, body: { error: { code: "check_name_taken", message: expect.stringContaining(first.name) } } });
    expect(await countRows()).toBe(before);
  });

  it("publishes the definition's JSON Schema, heartbeat checks included", async () => {
    const answer = await call<unknown>("GET", "/schema");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(anyCheckDefinitionJsonSchema)));
    expect(JSON.stringify(answer.body)).toContain('"heartbeat"');
  });
});

describe("replacing with PUT", () => {
  it("replaces the whole definition, bumps the revision and announces it", async () => {
    const created = await create(httpCheck({ description: "to be dropped", labels: { team: "web" } }));
    const replaced = await call("PUT", `/${created.id}`, { name: created.name, type: "dns", queryName: "example.com", recordType: "MX" });

    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({
      id: created.id,
      type: "dns",
      queryName: "example.com",
      recordType: "MX",
      labels: {},
      revision: 2,
      createdAt: created.createdAt,
    });
    expect(replaced.body).not.toHaveProperty("description");
    expect(replaced.body).not.toHaveProperty("url");
    const { rows } = await instance.pool.query("SELECT type, labels, revision FROM checks WHERE id = $1", [created.id]);
    expect(rows).toEqual([{ type: "dns", labels: {}, revision: 2 }]);
    await waitForNotice({ id: created.id, revision: 2 });
  });

  it("takes back what a GET answered, and refuses it with 409 once another write changed the check", async () => {
    const created = await create();
    const edited = await call("PUT", `/${created.id}`, { ...created, intervalSeconds: 120 });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body).toMatchObject({ intervalSeconds: 120, revision: 2 });

    const stale = await call("PUT", `/${created.id}`, { ...created, intervalSeconds: 300 });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: "check_changed", message: expect.stringContaining("GET it again") } } });
    const otherId = await call("PUT", `/${created.id}`, { ...editable(edited.body), id: randomUUID() });
    expect(otherId.status).toBe(400);
    expect(issuePaths(otherId)).toEqual(["id"]);
    expect((await call("GET", `/${created.id}`)).body).toMatchObject({ intervalSeconds: 120, revision: 2 });
  });

  it("answers 409 for a taken name and 404 for an unknown id, changing nothing", async () => {
    const [first, second] = [await create(), await create()];
    expect(await call("PUT", `/${second.id}`, { ...editable(second), name: first.name })).toMatchObject({
      status: 409,
      body: { error: { code: "check_name_taken" } },
    });
    expect(await call("PUT", `/${randomUUID()}`, httpCheck())).toMatchObject({ status: 404 });
    expect((await call("GET", `/${second.id}`)).body).toEqual(second);
  });
});

describe("merge patches (RFC 7396)", () => {
  it("merges objects, removes what is null, replaces arrays and scalars, then validates the result whole", async () => {
    const created = await create(
      httpCheck({
        description: "old",
        labels: { env: "prod", team: "web" },
        assertions: [{ subject: "status", op: "eq", value: 200 }],
        tls: { verify: false, serverName: "api.example.com" },
      }),
    );
    const patched = await call("PATCH", `/${created.id}`, {
      description: null,
      labels: { team: null, tier: "1" },
      tls: { verify: true },
      assertions: [{ subject: "responseTimeMs", op: "lt", value: 500, onFail: "degrade" }],
      intervalSeconds: 30,
    });

    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).not.toHaveProperty("description");
    expect(patched.body).toMatchObject({
      labels: { env: "prod", tier: "1" },
      tls: { verify: true, serverName: "api.example.com" },
      assertions: [{ subject: "responseTimeMs", op: "lt", value: 500, onFail: "degrade" }],
      intervalSeconds: 30,
      url: "http://127.0.0.1:9/health",
      revision: 2,
    });
    expect(Object.keys(patched.body.labels)).toEqual(["env", "tier"]);
    await waitForNotice({ id: created.id, revision: 2 });
  });

  it("moves a check to satellites when the patch turns the core off", async () => {
    const created = await create();
    const patched = await call("PATCH", `/${created.id}`, { runOn: { core: false, satellites: { regions: ["us"] } } });
    expect(patched.body).toMatchObject({ runOn: { core: false, satellites: { regions: ["us"] } } });
    const { rows } = await instance.pool.query("SELECT run_on_core, run_on_satellites FROM checks WHERE id = $1", [created.id]);
    expect(rows).toEqual([{ run_on_core: false, run_on_satellites: { regions: ["us"] } }]);
  });

  it("refuses a patch whose result is invalid, at the path, and keeps the check as it was", async () => {
    const created = await create(httpCheck({ intervalSeconds: 10, timeoutMs: 5_000 }));
    const tooSlow = await call("PATCH", `/${created.id}`, { timeoutMs: 20_000 });
    expect(tooSlow).toMatchObject({ status: 400, body: { error: { code: "invalid_check" } } });
    expect(issuePaths(tooSlow)).toEqual(["timeoutMs"]);
    // A tcp check has no url: a patch that changes the type must remove the http fields too.
    const halfTcp = await call("PATCH", `/${created.id}`, { type: "tcp", host: "127.0.0.1", port: 22 });
    expect(halfTcp.status).toBe(400);
    expect(issuePaths(halfTcp)).toContain("url");
    const stale = await call("PATCH", `/${created.id}`, { revision: 7, intervalSeconds: 20 });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: "check_changed" } } });
    expect((await call("GET", `/${created.id}`)).body).toEqual(created);
  });
});

describe("enable and disable", () => {
  it("flips enabled in the answer, the column and the stored definition, bumping the revision each time", async () => {
    const created = await create();
    const disabled = await call("POST", `/${created.id}/disable`);
    expect(disabled.body).toMatchObject({ enabled: false, revision: 2 });
    const stored = async () => (await instance.pool.query("SELECT enabled, definition->'enabled' AS defined FROM checks WHERE id = $1", [created.id])).rows[0];
    expect(await stored()).toEqual({ enabled: false, defined: false });
    await waitForNotice({ id: created.id, revision: 2 });

    const enabled = await call("POST", `/${created.id}/enable`);
    expect(enabled.body).toMatchObject({ enabled: true, revision: 3 });
    expect(await stored()).toEqual({ enabled: true, defined: true });
    await waitForNotice({ id: created.id, revision: 3 });
    expect((await call("POST", `/${randomUUID()}/enable`)).status).toBe(404);
  });
});

describe("deleting", () => {
  it("answers 204, then 404, and announces the deletion with a revision after the last", async () => {
    const created = await create();
    await call("POST", `/${created.id}/disable`);
    const deleted = await call("DELETE", `/${created.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect((await call("GET", `/${created.id}`)).status).toBe(404);
    expect((await call("DELETE", `/${created.id}`)).status).toBe(404);
    await waitForNotice({ id: created.id, revision: 3, deleted: true });
  });
});

describe("history", () => {
  interface HistoryPage {
    changes: Array<{
      seq: string;
      action: string;
      revision: number;
      changedFields: string[];
      actor: { type: string; name: string };
      cause: { type: string } | null;
    }>;
    next: string | null;
  }
  const history = (id: string, query = "", token?: string) => call<HistoryPage>("GET", `/${id}/history${query}`, undefined, token);

  it("records who made each write and why, newest first in keyset pages, names without secret values, readable by a viewer after the delete", async () => {
    const editor = await createToken(app, "editor", "ci deploy");
    const viewer = await createToken(app, "viewer");
    const created = await create(httpCheck({ headers: { Authorization: "Bearer sk-audit-0001" } }));
    expect((await call("PATCH", `/${created.id}`, { description: "patched" }, editor.token)).status).toBe(200);
    expect((await call("PATCH", `/${created.id}`, { headers: { Authorization: "Bearer sk-audit-0002" } }, editor.token)).status).toBe(200);
    // A refused write records nothing.
    expect((await call("PATCH", `/${created.id}`, { intervalSeconds: -1 }, editor.token)).status).toBe(400);
    expect((await call("POST", `/${created.id}/disable`, undefined, editor.token)).status).toBe(200);
    expect((await call("DELETE", `/${created.id}`, undefined, editor.token)).status).toBe(204);

    const all = await history(created.id, "", viewer.token);
    expect(all.status, all.text).toBe(200);
    expect(all.text).not.toMatch(/sk-audit|sealed/);
    expect(all.body.changes.map(({ action, revision, changedFields }) => ({ action, revision, changedFields }))).toEqual([
      { action: "delete", revision: 5, changedFields: [] },
      { action: "disable", revision: 4, changedFields: ["enabled"] },
      { action: "update", revision: 3, changedFields: ["headers"] },
      { action: "update", revision: 2, changedFields: ["description"] },
      { action: "create", revision: 1, changedFields: expect.arrayContaining(["headers", "name", "url"]) },
    ]);
    expect(all.body.changes[0]!.actor).toMatchObject({ type: "token", name: "ci deploy" });
    expect(all.body.changes.at(-1)!.actor).toMatchObject({ type: "token", name: "admin token" });
    for (const change of all.body.changes) expect(change.cause).toEqual({ type: "api-request", id: expect.any(String) });

    const first = await history(created.id, "?limit=2");
    expect(first.body.changes.map((change) => change.action)).toEqual(["delete", "disable"]);
    const second = await history(created.id, `?limit=2&before=${first.body.next}`);
    expect(second.body.changes.map((change) => change.action)).toEqual(["update", "update"]);
    const last = await history(created.id, `?limit=2&before=${second.body.next}`);
    expect(last.body).toMatchObject({ changes: [{ action: "create" }], next: null });
  });

  it("answers 404 for a check that never existed, and 400 for a bad cursor", async () => {
    expect((await history(randomUUID())).body).toMatchObject({ error: { code: "check_not_found" } });
    expect((await history("not-a-uuid")).status).toBe(404);
    expect((await history((await create()).id, "?before=x")).status).toBe(400);
  });
});

describe("YAML", () => {
  async function yaml(method: string, path: string, text: string, accept = "application/json"): Promise<Answer<CheckView>> {
    const response = await app.request(`/api/v1/checks${path}`, {
      method,
      headers: { "content-type": "application/yaml", accept, authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: text,
    });
    const body = await response.text();
    return { status: response.status, text: body, body: (accept === "application/json" ? JSON.parse(body) : parse(body)) as CheckView };
  }

  it("accepts a check authored as YAML, answers it as YAML when asked, and takes that YAML back edited", async () => {
    const authored = `
name: yaml-authored
type: http
url: http://127.0.0.1:9/status
headers: { Authorization: Bearer yaml-secret-1 }
assertions:
  - { subject: 'json:$.status', op: eq, value: ok }
  - op: or
    of: [{ subject: status, op: eq, value: 200 }, { subject: status, op: eq, value: 204 }]
    onFail: degrade
`;
    const created = await yaml("POST", "", authored);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: "yaml-authored",
      headers: { Authorization: "<redacted>" },
      assertions: [
        { subject: "json:$.status", onFail: "fail" },
        { op: "or", onFail: "degrade" },
      ],
    });

    const response = await app.request(`/api/v1/checks/${created.body.id}`, {
      headers: { accept: "application/yaml", authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(response.headers.get("content-type")).toMatch(/^application\/yaml/);
    const text = await response.text();
    expect(text).not.toContain("yaml-secret-1");
    expect(parse(text)).toEqual(created.body);

    const replaced = await yaml("PUT", `/${created.body.id}`, text.replace(/^intervalSeconds: .*$/m, "intervalSeconds: 300"), "application/yaml");
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ intervalSeconds: 300, revision: 2, headers: { Authorization: "<redacted>" } });
    expect(store.openDefinition((await store.rows([created.body.id]))[0]!)).toMatchObject({ headers: { Authorization: "Bearer yaml-secret-1" } });
  });

  it("answers invalid YAML with its line and column, and stores nothing", async () => {
    const before = await countRows();
    const broken = await yaml("POST", "", "name: x\ntype: [\n");
    expect(broken).toMatchObject({ status: 400, body: { error: { code: "invalid_input", message: expect.stringMatching(/line \d+, column \d+/) } } });
    expect(await countRows()).toBe(before);
  });
});

describe("credential headers", () => {
  const secrets = { Authorization: "Bearer sk-live-0001", "X-Api-Key": "key-0002" };
  const secretValues = /sk-live-000|key-000/;

  it("are sealed at rest, never answered, and opened only for the probe", async () => {
    const created = await call("POST", "", httpCheck({ headers: { ...secrets, "X-Team": "ops" } }));
    expect(created.status, created.text).toBe(201);
    expect((created.body as unknown as { headers: unknown }).headers).toEqual({ Authorization: "<redacted>", "X-Api-Key": "<redacted>", "X-Team": "ops" });
    const id = created.body.id;
    expect(await rowText(id)).not.toMatch(secretValues);
    const answers = [
      created,
      await call("GET", `/${id}`),
      await call("GET", `?namePrefix=${created.body.name}`),
      await call("POST", `/${id}/disable`),
      await call("PATCH", `/${id}`, { description: "patched" }),
      await call("PUT", `/${id}`, { ...editable(created.body), description: "replaced" }),
    ];
    for (const answer of answers) {
      expect(answer.status, answer.text).toBeLessThan(300);
      expect(answer.text).not.toMatch(secretValues);
    }
    expect(await rowText(id)).not.toMatch(secretValues);
    const { rows } = await instance.pool.query("SELECT definition->'headers' AS headers FROM checks WHERE id = $1", [id]);
    expect(rows[0].headers).toEqual({
      Authorization: { sealed: expect.stringMatching(/^v1:/) },
      "X-Api-Key": { sealed: expect.stringMatching(/^v1:/) },
      "X-Team": "ops",
    });

    const [row] = await store.rows([id]);
    expect(store.openDefinition(row!)).toMatchObject({ headers: { ...secrets, "X-Team": "ops" } });
    // Bound to its check: the same sealed value copied to another check does not open there.
    expect(() => store.openDefinition({ ...row!, id: randomUUID() })).toThrow(expect.objectContaining({ code: "secret_undecryptable" }));
  });

  it("survive a PUT or PATCH that sends <redacted>, and take a new value when one is sent", async () => {
    const created = await create(httpCheck({ headers: secrets }));
    const opened = async () => {
      const definition = store.openDefinition((await store.rows([created.id]))[0]!);
      return definition.type === "http" ? definition.headers : undefined;
    };
    expect((await call("PUT", `/${created.id}`, { ...editable(created), url: "http://127.0.0.1:9/other" })).status).toBe(200);
    expect(await opened()).toEqual(secrets);
    expect((await call("PATCH", `/${created.id}`, { headers: { Authorization: "Bearer sk-live-0003" } })).status).toBe(200);
    expect(await opened()).toEqual({ ...secrets, Authorization: "Bearer sk-live-0003" });
    expect((await call("PATCH", `/${created.id}`, { headers: { "X-Api-Key": null } })).status).toBe(200);
    expect(await opened()).toEqual({ Authorization: "Bearer sk-live-0003" });
  });

  it("refuse <redacted> where no value is stored, at its path, storing nothing", async () => {
    const before = await countRows();
    const answer = await call("POST", "", httpCheck({ headers: { Authorization: "<redacted>" } }));
    expect(answer).toMatchObject({ status: 400, body: { error: { code: "invalid_check" } } });
    expect(issuePaths(answer)).toEqual(["headers.Authorization"]);
    expect(await countRows()).toBe(before);
    const created = await create(httpCheck({ headers: secrets }));
    const renamed = await call("PUT", `/${created.id}`, { ...editable(created), headers: { Cookie: "<redacted>" } });
    expect(issuePaths(renamed)).toEqual(["headers.Cookie"]);
  });
});

describe("private targets", () => {
  const refused = [
    { body: { type: "http", url: "http://169.254.169.254/latest/meta-data/" }, path: "url" },
    { body: { type: "http", url: "http://[fd00:ec2::254]/latest/" }, path: "url" },
    { body: { type: "http", url: "http://0xa9.0xfe.0xa9.0xfe/" }, path: "url" },
    { body: { type: "http", url: "http://Metadata.Google.Internal./computeMetadata/v1/" }, path: "url" },
    { body: { type: "tcp", host: "fe80::1", port: 22 }, path: "host" },
    { body: { type: "tcp", host: "2852039166", port: 80 }, path: "host" },
    { body: { type: "tls", host: "100.100.100.200" }, path: "host" },
    { body: { type: "dns", queryName: "example.com", server: "169.254.169.253" }, path: "server" },
  ];

  it("are refused for checks that run on the core, at the field, with how to allow them", async () => {
    const before = await countRows();
    for (const { body, path } of refused) {
      named += 1;
      const answer = await call("POST", "", { name: `private-${named}`, ...body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(issuesOf(answer)).toEqual([{ path, message: expect.stringContaining("VANTAGE_ALLOW_PRIVATE_TARGETS=true") }]);
      expect(issuesOf(answer)[0]!.message).toContain("runOn.core: false");
    }
    expect(await countRows()).toBe(before);
  });

  it("are allowed on satellites, and on the core once the operator allows them", async () => {
    for (const { body } of refused) {
      named += 1;
      expect((await call("POST", "", { name: `satellite-private-${named}`, ...body, runOn: { satellites: { regions: ["lab"] } } })).status).toBe(201);
      const allowed = await callApi(permissiveApp, "POST", "/api/v1/checks", { name: `allowed-private-${named}`, ...body });
      expect(allowed.status, allowed.text).toBe(201);
    }
  });

  it("are refused when a patch brings a satellite check to the core", async () => {
    const created = await create(httpCheck({ url: "http://169.254.169.254/", runOn: { satellites: { ids: [randomUUID()] } } }));
    const answer = await call("PATCH", `/${created.id}`, { runOn: { core: true } });
    expect(answer.status).toBe(400);
    expect(issuePaths(answer)).toEqual(["url"]);
  });

  it("leave other private and loopback addresses alone", async () => {
    for (const url of ["http://10.0.0.1/", "http://127.0.0.1:9/", "http://[::1]:9/", "http://169.255.0.1/", "http://metadata.example.com/"]) {
      expect((await call("POST", "", httpCheck({ url }))).status, url).toBe(201);
    }
  });
});

describe("bad input", () => {
  const cases = [
    { what: "an invalid definition", body: { name: "bad-1", type: "http" }, paths: ["url"] },
    { what: "an unknown type", body: { name: "bad-2", type: "ftp", url: "ftp://x" }, paths: ["type"] },
    { what: "an unknown field", body: { name: "bad-3", type: "tcp", host: "127.0.0.1", port: 22, url: "http://x" }, paths: ["url"] },
    {
      what: "an assertion on a subject the type lacks",
      body: { name: "bad-4", type: "tcp", host: "127.0.0.1", port: 22, assertions: [{ subject: "status", op: "eq", value: 200 }] },
      paths: ["assertions.0.subject"],
    },
    {
      what: "an over-long regex",
      body: { name: "bad-5", type: "http", url: "http://127.0.0.1/", assertions: [{ subject: "body", op: "matches", value: "a".repeat(513) }] },
      paths: ["assertions.0.value"],
    },
    {
      what: "a timeout longer than the interval",
      body: { name: "bad-6", type: "http", url: "http://127.0.0.1/", intervalSeconds: 10, timeoutMs: 10_001 },
      paths: ["timeoutMs"],
    },
  ];

  for (const { what, body, paths } of cases) {
    it(`answers ${what} with 400 at its path and stores nothing`, async () => {
      const before = await countRows();
      const answer = await call("POST", "", body);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: "invalid_check", message: expect.stringContaining(paths[0]!) } } });
      expect([...new Set(issuePaths(answer))]).toEqual(paths);
      expect(await countRows()).toBe(before);
    });
  }

  const nested = [
    {
      what: "a subject the type lacks deep in a tree",
      assertions: [
        {
          op: "and",
          of: [
            { subject: "status", op: "eq", value: 200 },
            { op: "not", of: { subject: "rcode", op: "eq", value: "NOERROR" } },
          ],
        },
      ],
      paths: ["assertions.0.of.1.of.subject"],
    },
    { what: "a pattern RE2 cannot run (a backreference)", assertions: [{ subject: "body", op: "matches", value: "(a)\\1" }], paths: ["assertions.0.value"] },
    {
      what: "an over-long regex inside or",
      assertions: [{ op: "or", of: [{ subject: "header:server", op: "matches", value: "x".repeat(513) }] }],
      paths: ["assertions.0.of.0.value"],
    },
  ];

  for (const { what, assertions, paths } of nested) {
    it(`answers ${what} with 400 at its path and stores nothing`, async () => {
      const before = await countRows();
      const answer = await call("POST", "", httpCheck({ assertions }));
      expect(answer).toMatchObject({ status: 400, body: { error: { code: "invalid_check" } } });
      expect([...new Set(issuePaths(answer))]).toEqual(paths);
      expect(await countRows()).toBe(before);
    });
  }

  it("answers the same bad input sent with PUT or PATCH with 400 at its path, and the check stays as it was", async () => {
    const created = await create();
    const edits: Array<{ body: Record<string, unknown>; path: string }> = [
      { body: { type: "ftp" }, path: "type" },
      { body: { intervalSeconds: 5 }, path: "intervalSeconds" },
      { body: { assertions: [{ subject: "rcode", op: "eq", value: "NOERROR" }] }, path: "assertions.0.subject" },
      { body: { assertions: [{ subject: "body", op: "matches", value: "a".repeat(513) }] }, path: "assertions.0.value" },
    ];
    for (const { body, path } of edits) {
      const patched = await call("PATCH", `/${created.id}`, body);
      expect(patched.status, JSON.stringify(body)).toBe(400);
      expect(issuePaths(patched), JSON.stringify(body)).toContain(path);
      const replaced = await call("PUT", `/${created.id}`, { ...editable(created), ...body });
      expect(replaced.status, JSON.stringify(body)).toBe(400);
      expect(issuePaths(replaced), JSON.stringify(body)).toContain(path);
    }
    expect((await call("GET", `/${created.id}`)).body).toEqual(created);
  });

  it("answers bad input authored as YAML with 400 at the same paths, storing nothing", async () => {
    const before = await countRows();
    const text = "name: yaml-bad\ntype: tcp\nhost: 127.0.0.1\nport: 22\nassertions:\n  - { subject: status, op: eq, value: 200 }\n";
    const response = await app.request("/api/v1/checks", {
      method: "POST",
      headers: { "content-type": "application/yaml", authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: text,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: { issues: Array<{ path: string }> } } };
    expect(body.error.code).toBe("invalid_check");
    expect(body.error.details.issues.map((issue) => issue.path)).toEqual(["assertions.0.subject"]);
    expect(await countRows()).toBe(before);
  });

  it("answers a body that is not a definition at all with 400", async () => {
    for (const body of ["[]", "null", '"http"', "{"]) expect((await call("POST", "", body)).status, body).toBe(400);
  });
});

describe("listing", () => {
  // Names of their own (a prefix nothing else here has), so other tests' checks never land in these pages.
  const names = ["ls-a", "ls-b", "ls-c", "ls-d", "ls-e", "ls-f", "ls-g"];
  const ids = new Map<string, string>();
  beforeAll(async () => {
    const specs: Record<string, Record<string, unknown>> = {
      "ls-a": { labels: { env: "prod", team: "web" } },
      "ls-b": { type: "tcp", url: undefined, host: "127.0.0.1", port: 22, labels: { env: "prod" } },
      "ls-c": { labels: { env: "staging", team: "web" }, enabled: false },
      "ls-d": { type: "dns", url: undefined, queryName: "example.com", labels: { env: "prod", team: "web" } },
      "ls-e": {},
      "ls-f": { type: "tcp", url: undefined, host: "127.0.0.1", port: 23, enabled: false },
      "ls-g": { labels: { team: "web" } },
    };
    // Created out of order: the list orders by name, not by creation.
    for (const name of [...names].reverse()) ids.set(name, (await create(httpCheck({ name, ...specs[name] }))).id);
  });

  type Page = { checks: CheckView[]; nextCursor: string | null };
  const list = async (query: string) => {
    const answer = await call<Page>("GET", `?${query}`);
    expect(answer.status, answer.text).toBe(200);
    return answer.body;
  };
  /** Every page of a query, following nextCursor; the names in order. */
  async function allPages(query: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(`${query}&limit=${limit}${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(page.checks.length).toBeLessThanOrEqual(limit);
      seen.push(...page.checks.map((check) => check.name));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return seen;
  }

  it("pages through every check in name order, each once, whatever the page size", async () => {
    for (const limit of [1, 2, 3, 7, 50]) expect(await allPages("namePrefix=ls-", limit)).toEqual(names);
    expect((await list("namePrefix=ls-&limit=7")).nextCursor).not.toBeNull();
    expect((await list("namePrefix=ls-&limit=8")).nextCursor).toBeNull();
  });

  it("keeps its place when checks are created and deleted between pages", async () => {
    const first = await list("namePrefix=ls-&limit=3");
    expect(first.checks.map((check) => check.name)).toEqual(["ls-a", "ls-b", "ls-c"]);
    const early = await create(httpCheck({ name: "ls-aa" }));
    await call("DELETE", `/${ids.get("ls-c")}`);
    try {
      const rest = await list(`namePrefix=ls-&limit=50&cursor=${first.nextCursor}`);
      expect(rest.checks.map((check) => check.name)).toEqual(["ls-d", "ls-e", "ls-f", "ls-g"]);
    } finally {
      await call("DELETE", `/${early.id}`);
      ids.set("ls-c", (await create(httpCheck({ name: "ls-c", labels: { env: "staging", team: "web" }, enabled: false }))).id);
    }
  });

  it("filters by type, labels (all must hold), enabled and name prefix, also across pages", async () => {
    const names = async (query: string) => allPages(`namePrefix=ls-&${query}`, 2);
    expect(await names("type=tcp")).toEqual(["ls-b", "ls-f"]);
    expect(await names("label=env=prod")).toEqual(["ls-a", "ls-b", "ls-d"]);
    expect(await names("label=env=prod&label=team=web")).toEqual(["ls-a", "ls-d"]);
    expect(await names("label=team=web&type=http&enabled=true")).toEqual(["ls-a", "ls-g"]);
    expect(await names("enabled=false")).toEqual(["ls-c", "ls-f"]);
    expect(await names("label=env=")).toEqual([]);
    expect(await allPages("namePrefix=ls-d", 2)).toEqual(["ls-d"]);
    expect(await allPages("namePrefix=LS-", 2)).toEqual([]);
  });

  it("shows each check's health status, since and reason, and filters by status, also across pages", async () => {
    const since = "2026-01-02T03:04:05.000Z";
    const evaluated = (name: string, status: string, reason: string) =>
      instance.pool.query(
        `INSERT INTO check_health (check_id, status, since, reason, evaluated_at) VALUES ($1, $2, $3, $4, $3)
         ON CONFLICT (check_id) DO UPDATE SET status = excluded.status, since = excluded.since, reason = excluded.reason`,
        [ids.get(name), status, since, reason],
      );
    await evaluated("ls-a", "unhealthy", "1 of 1 locations failing: core (timeout 10 s)");
    await evaluated("ls-d", "unhealthy", "1 of 1 locations failing: core (status 503, expected 2xx)");
    await evaluated("ls-e", "healthy", "1 of 1 locations healthy");
    await evaluated("ls-g", "degraded", "1 of 1 locations degraded: core (slow)");
    const page = await list("namePrefix=ls-&limit=50");
    expect(page.checks.find((check) => check.name === "ls-a")).toMatchObject({
      status: "unhealthy",
      statusSince: since,
      statusReason: "1 of 1 locations failing: core (timeout 10 s)",
    });
    expect(page.checks.find((check) => check.name === "ls-b")).toMatchObject({ status: "unknown", statusReason: "no results yet" });
    expect(await call("GET", `/${ids.get("ls-g")}`)).toMatchObject({ status: 200, body: { status: "degraded", statusSince: since } });
    const names = async (query: string) => allPages(`namePrefix=ls-&${query}`, 1);
    expect(await names("status=unhealthy")).toEqual(["ls-a", "ls-d"]);
    expect(await names("status=healthy")).toEqual(["ls-e"]);
    expect(await names("status=unknown")).toEqual(["ls-b", "ls-c", "ls-f"]);
    expect(await names("status=unhealthy&label=team=web&type=dns")).toEqual(["ls-d"]);
    // The overview's counts agree with the list filtered by each status, over every check stored.
    const summaryApp = await createApiApp(instance.pool, {
      "/checks": createCheckSummaryRoutes({ pool: instance.pool, health: { getMany: async () => new Map() } }),
    });
    const counts = await callApi<Record<string, number>>(summaryApp, "GET", "/api/v1/checks/status-counts");
    expect(counts.status).toBe(200);
    const everywhere = async (status: string) => (await allPages(`status=${status}`, 500)).length;
    const expected = {
      healthy: await everywhere("healthy"),
      degraded: await everywhere("degraded"),
      unhealthy: await everywhere("unhealthy"),
      unknown: await everywhere("unknown"),
    };
    expect(expected).toMatchObject({ healthy: 1, degraded: 1, unhealthy: 2 });
    expect(counts.body).toEqual({ ...expected, total: expected.healthy + expected.degraded + expected.unhealthy + expected.unknown });
    // What a GET answered goes back in a PUT: the health is read-only and ignored.
    const shown = (await call("GET", `/${ids.get("ls-a")}`)).body;
    const replaced = await call("PUT", `/${shown.id}`, { ...shown, status: "healthy", description: "edited" });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ description: "edited", status: "unhealthy" });
  });

  it("takes a name prefix literally: LIKE's wildcards and escape match only themselves", async () => {
    for (const name of ["wild%card", "wild_card", "wildXcard", "wild\\card"]) await create(httpCheck({ name }));
    expect(await allPages(`namePrefix=${encodeURIComponent("wild%")}`, 2)).toEqual(["wild%card"]);
    expect(await allPages(`namePrefix=${encodeURIComponent("wild_")}`, 2)).toEqual(["wild_card"]);
    expect(await allPages(`namePrefix=${encodeURIComponent("wild\\")}`, 2)).toEqual(["wild\\card"]);
    expect(await allPages("namePrefix=wild", 10)).toEqual(["wild%card", "wildXcard", "wild\\card", "wild_card"]);
  });

  it("carries the page's summaries when asked, in the page's order, and only then", async () => {
    type WithSummaries = Page & {
      summaries?: { range: string; segmentSeconds: number; summaries: Array<{ checkId: string; bars: unknown[]; health: unknown }> };
    };
    const plain: WithSummaries = await list("namePrefix=ls-&limit=3");
    expect(plain.summaries).toBeUndefined();
    const page: WithSummaries = await list("namePrefix=ls-&limit=3&summaries=24h");
    expect(page.checks.map((check) => check.name)).toEqual(["ls-a", "ls-b", "ls-c"]);
    expect(page.summaries).toMatchObject({ range: "24h", segmentSeconds: 3600 });
    expect(page.summaries!.summaries.map((summary) => summary.checkId)).toEqual(page.checks.map((check) => check.id));
    for (const summary of page.summaries!.summaries) expect(summary.bars).toHaveLength(24);
    const days: WithSummaries = await list(`namePrefix=ls-&limit=2&summaries=90d&cursor=${page.nextCursor}`);
    expect(days.summaries!.summaries.map((summary) => summary.checkId)).toEqual(days.checks.map((check) => check.id));
    expect(days.summaries!.summaries[0]!.bars).toHaveLength(90);
    const refused = await call("GET", "?summaries=7d");
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "invalid_query" } } });
    expect(issuePaths(refused)[0]).toBe("summaries");
  });

  it("answers 50 checks by default, and refuses a bad limit, cursor or filter with the parameter's name", async () => {
    const answer = await call<Page>("GET", "");
    expect(answer.body.checks.length).toBeLessThanOrEqual(50);
    const bad = [
      "limit=0",
      "limit=501",
      "cursor=not-a-cursor",
      "cursor=",
      "type=ftp",
      "label=env",
      "label=env=a&label=env=b",
      "enabled=yes",
      "status=down",
      "sort=name",
    ];
    for (const query of bad) {
      const refused = await call("GET", `?${query}`);
      expect(refused, query).toMatchObject({ status: 400, body: { error: { code: "invalid_query" } } });
      expect(issuePaths(refused)[0], query).toBe(query.split("=")[0]);
    }
  });
});
