// Request bodies at the edge: nesting and size limits for JSON and YAML (aliases too), and NUL characters or lone surrogates refused at their path.
import { HEARTBEAT_INTERVAL_MS } from "@vantage/protocol";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MAX_INPUT_DEPTH, MAX_INPUT_NODES } from "../../src/http/check-input.ts";
import { createChannelSchema } from "../../src/notifications/channel-schemas.ts";
import { satelliteInputSchemas } from "../../src/satellites/registry/registry.ts";
import { type Answer, callApi, createApiApp, TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { useFullApiApp } from "../support/api/full-api-app.ts";

const api = useFullApiApp("hostile-input");

const { call } = api;

async function postYaml(path: string, yaml: string): Promise<Answer> {
  const response = await api.app.request(`/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/yaml" },
    body: yaml,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

const errorOf = (answer: Answer) => answer.body.error as { code: string; message: string; details?: { issues?: Array<{ path: string; message: string }> } };
const issuePaths = (answer: Answer) => errorOf(answer).details?.issues?.map((issue) => issue.path);

const LOG_ACTION = { log: { message: "hello" } };
const definition = (fields: Record<string, unknown> = {}) => ({
  name: `automation-${Math.random()}`,
  triggers: [{ event: "satellite.heartbeat_lost" }],
  actions: [LOG_ACTION],
  ...fields,
});

describe("deeply nested request bodies", () => {
  it("refuses YAML flow collections nested 2,000 deep, again and again, naming the limit", async () => {
    const deep = "[".repeat(2000) + "]".repeat(2000);
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await postYaml("/automations/validate", deep);
      expect(answer.status, answer.text).toBe(400);
      expect(errorOf(answer).code).toBe("invalid_input");
      expect(errorOf(answer).message).toContain(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
      expect(errorOf(answer).message).toContain("line 1, column");
    }
  });

  it("refuses YAML block sequences and mappings nested deeper than the limit", async () => {
    const blockSequence = "- ".repeat(5000) + "x";
    const blockMapping = Array.from({ length: 200 }, (_, level) => `${" ".repeat(level)}k${level}:`).join("\n") + " end";
    for (const yaml of [blockSequence, blockMapping]) {
      const answer = await postYaml("/automations", yaml);
      expect(answer.status, answer.text).toBe(400);
      expect(errorOf(answer).message).toContain(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
    }
  });

  it("refuses a YAML body whose alias makes it contain itself", async () => {
    const answer = await postYaml(
      "/automations",
      "name: loop\ntriggers: &t [{ event: satellite.heartbeat_lost, filter: { and: *t } }]\nactions: [{ log: { message: hi } }]\n",
    );
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer).message).toContain(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
  });

  it("reads YAML nested exactly to the limit and refuses one level more", async () => {
    // The root mapping, actions, the step and webhook are four levels; the body's arrays the rest.
    const withBodyDepth = (levels: number) =>
      `name: deep\ntriggers: [{ event: satellite.heartbeat_lost }]\nactions: [{ webhook: { url: "http://127.0.0.1:9/hook", body: ${"[".repeat(levels)}${"]".repeat(levels)} } }]\n`;
    const atLimit = await postYaml("/automations/validate", withBodyDepth(MAX_INPUT_DEPTH - 4));
    expect(atLimit.status, atLimit.text).toBe(200);
    const beyond = await postYaml("/automations/validate", withBodyDepth(MAX_INPUT_DEPTH - 3));
    expect(beyond.status, beyond.text).toBe(400);
    expect(errorOf(beyond).message).toContain(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
  });

  it("reads JSON nested exactly to the limit and refuses one level more", async () => {
    const withBodyDepth = (levels: number) =>
      definition({ actions: [{ webhook: { url: "http://127.0.0.1:9/hook", body: JSON.parse("[".repeat(levels) + "]".repeat(levels)) as unknown } }] });
    const atLimit = await call("POST", "/automations/validate", withBodyDepth(MAX_INPUT_DEPTH - 4));
    expect(atLimit.status, atLimit.text).toBe(200);
    const beyond = await call("POST", "/automations/validate", withBodyDepth(MAX_INPUT_DEPTH - 3));
    expect(beyond.status, beyond.text).toBe(400);
    expect(issuePaths(beyond)?.[0]).toBe(`actions.0.webhook.body${".0".repeat(MAX_INPUT_DEPTH - 4)}`);
  });

  it("refuses a JSON array nested 10,000 deep on every route that reads a body, with the path where it goes too deep", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const { body: automation } = await call<{ id: string }>("POST", "/automations", definition());
    for (const [method, path, body] of [
      ["POST", "/automations/validate", deep],
      ["POST", "/automations", deep],
      ["POST", "/satellites", `{"name":"deep","region":"eu","tags":${deep}}`],
      ["POST", "/notification-channels", `{"name":"deep","type":"webhook","config":{"url":${deep}}}`],
      ["POST", `/automations/${automation.id}/run`, `{"payload":{"deep":${deep}}}`],
    ] as const) {
      const answer = await call(method, path, body);
      expect(answer.status, `${path}: ${answer.text}`).toBe(400);
      expect(errorOf(answer).message).toContain(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
    }
    const runAnswer = await call("POST", `/automations/${automation.id}/run`, `{"payload":{"deep":${deep}}}`);
    expect(issuePaths(runAnswer)?.[0]).toMatch(/^payload\.deep(\.0)+$/);
  });

  it("refuses a body with more values than the limit", async () => {
    const wide = JSON.stringify({ name: "wide", region: "eu", tags: Array.from({ length: MAX_INPUT_NODES + 1 }, () => 0) });
    const answer = await call("POST", "/satellites", wide);
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer).message).toContain(`more than ${MAX_INPUT_NODES} values`);
  });
});

describe("NUL characters and unpaired surrogates", () => {
  it("refuses a satellite whose name holds a NUL, at its path", async () => {
    const answer = await call("POST", "/satellites", { name: "a\u0000b", region: "eu" });
    expect(answer.status, answer.text).toBe(400);
    expect(issuePaths(answer)).toEqual(["name"]);
    expect(errorOf(answer).message).toContain("NUL");
  });

  it("refuses a lone surrogate in a satellite's tag", async () => {
    const answer = await call("POST", "/satellites", { name: "lonely", region: "eu", tags: ["ok", "\ud800"] });
    expect(answer.status, answer.text).toBe(400);
    expect(issuePaths(answer)).toEqual(["tags.1"]);
    expect(errorOf(answer).message).toContain("surrogate");
  });

  it("refuses a NUL in a query string", async () => {
    // (Percent-decoding never yields an unpaired surrogate: invalid UTF-8 is not decoded.)
    for (const path of [
      "/satellites?after=%00",
      "/satellites?after=a%00b&limit=5",
      `/automations/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}/runs?before=%00`,
    ]) {
      const answer = await call("GET", path);
      expect(answer.status, `${path}: ${answer.text}`).toBe(400);
      expect(errorOf(answer).code).toBe("invalid_query");
    }
  });

  it("refuses a NUL in an automation's name, a webhook step's body and a manual run's payload", async () => {
    const named = await call("POST", "/automations", definition({ name: "page\u0000me" }));
    expect(named.status, named.text).toBe(400);
    expect(issuePaths(named)).toEqual(["name"]);
    const webhook = await call("POST", "/automations", definition({ actions: [{ webhook: { url: "http://127.0.0.1:9/hook", body: { text: "a\u0000b" } } }] }));
    expect(webhook.status, webhook.text).toBe(400);
    expect(issuePaths(webhook)).toEqual(["actions.0.webhook.body.text"]);
    const { body: automation } = await call<{ id: string }>("POST", "/automations", definition());
    const run = await call("POST", `/automations/${automation.id}/run`, { payload: { "bad\u0000key": 1 } });
    expect(run.status, run.text).toBe(400);
    expect(issuePaths(run)).toEqual(["payload.bad\u0000key"]);
  });

  it("refuses a NUL escaped in a YAML definition", async () => {
    const answer = await postYaml("/automations", 'name: "a\\0b"\ntriggers: [{ event: satellite.heartbeat_lost }]\nactions: [{ log: { message: hi } }]\n');
    expect(answer.status, answer.text).toBe(400);
    expect(issuePaths(answer)).toEqual(["name"]);
  });

  it("refuses a NUL in a notification channel's name", async () => {
    const answer = await call("POST", "/notification-channels", { name: "ops\u0000", type: "webhook", config: { url: "http://127.0.0.1:9/hook" } });
    expect(answer.status, answer.text).toBe(400);
    expect(issuePaths(answer)).toEqual(["name"]);
  });
});

describe("ids in upper case", () => {
  it("address the same automation, whose webhook secret stays readable after a PUT through the upper-case id", async () => {
    const body = definition({ actions: [{ webhook: { url: "http://127.0.0.1:9/hook", secret: "whsec-upper-case" } }] });
    const { body: created } = await call<{ id: string }>("POST", "/automations", body);
    const upper = created.id.toUpperCase();
    const replaced = await call("PUT", `/automations/${upper}`, {
      ...body,
      actions: [{ webhook: { url: "http://127.0.0.1:9/hook", secret: "whsec-replaced" } }],
    });
    expect(replaced.status, replaced.text).toBe(200);
    // A PUT that keeps the secret must open the stored one, whichever case the id is written in.
    for (const id of [created.id, upper]) {
      const kept = await call("PUT", `/automations/${id}`, { ...body, actions: [{ webhook: { url: "http://127.0.0.1:9/hook", secret: "<redacted>" } }] });
      expect(kept.status, kept.text).toBe(200);
    }
  });

  it("address the same notification channel, whose secrets stay readable after a PATCH through the upper-case id", async () => {
    const { body: created } = await call<{ id: string }>("POST", "/notification-channels", {
      name: `upper-${Math.random()}`,
      type: "webhook",
      config: { url: "http://127.0.0.1:9/hook" },
    });
    const patched = await call("PATCH", `/notification-channels/${created.id.toUpperCase()}`, { config: { secret: "signing-secret-1" } });
    expect(patched.status, patched.text).toBe(200);
    // Testing the channel opens its secrets (the delivery itself is refused: nothing listens on port 9).
    const tested = await call("POST", `/notification-channels/${created.id}/test`);
    expect(tested.status, tested.text).toBe(200);
  });
});

describe("values PostgreSQL refuses that reached it anyway", () => {
  it("answers 400 invalid_input, not 500, when PostgreSQL refuses a value as text it cannot hold", async () => {
    const routes = new Hono();
    routes.get("/nul", async (c) => c.json((await api.instance.pool.query("SELECT $1::text AS value", ["a\u0000b"])).rows[0]));
    routes.get("/uuid", async (c) => c.json((await api.instance.pool.query("SELECT $1::uuid AS value", ["not-a-uuid"])).rows[0]));
    routes.get("/surrogate", async (c) => c.json((await api.instance.pool.query("SELECT $1::jsonb AS value", ['"\\ud800"'])).rows[0]));
    const probe = await createApiApp(api.instance.pool, { "/probe": routes });
    for (const path of ["/nul", "/uuid", "/surrogate"]) {
      const answer = await callApi(probe, "GET", `/api/v1/probe${path}`);
      expect(answer.status, `${path}: ${answer.text}`).toBe(400);
      expect(errorOf(answer).code).toBe("invalid_input");
    }
  });
});

describe("the API's schemas hold the safe text rule themselves", () => {
  it("refuses NUL and unpaired surrogates in satellite and notification channel fields", () => {
    const satellite = satelliteInputSchemas(HEARTBEAT_INTERVAL_MS);
    expect(satellite.create.safeParse({ name: "a\u0000b", region: "eu" }).error?.issues.map((issue) => issue.path.join("."))).toEqual(["name"]);
    expect(satellite.update.safeParse({ tags: ["\udc00"] }).error?.issues.map((issue) => issue.path.join("."))).toEqual(["tags.0"]);
    const channel = createChannelSchema.safeParse({
      name: "ops",
      type: "webhook",
      config: { url: "http://127.0.0.1:9/hook", headers: { authorization: "Bearer a\u0000b" } },
    });
    expect(channel.error?.issues.map((issue) => issue.message)).toEqual([expect.stringContaining("NUL")]);
    const email = createChannelSchema.safeParse({
      name: "mail",
      type: "email",
      config: { host: "127.0.0.1", port: 25, secure: false, password: "\ud800", from: "a@b.example", to: ["c@d.example"] },
    });
    expect(email.error?.issues.map((issue) => issue.path.join("."))).toEqual(["config.password"]);
  });
});
