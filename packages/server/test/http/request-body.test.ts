// Proves the API tells what is wrong with a body or query in a user's words, at each field's
// path, in the one invalid-input shape; and that a body that is not JSON says how to send YAML.
import { describe, expect, it } from "vitest";
import { type Answer, TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { useFullApiApp } from "../support/api/full-api-app.ts";

const api = useFullApiApp("request-body");

const { call } = api;

type ErrorAnswer = { error: { code: string; message: string; details: { issues: Array<{ path: string; message: string }> } } };
const errorOf = (answer: Answer) => (answer.body as unknown as ErrorAnswer).error;

const AUTOMATION = { name: "friendly", triggers: [{ event: "satellite.heartbeat_lost" }], actions: [{ log: { message: "hi" } }] };
const YAML_AUTOMATION = "name: from-yaml\ntriggers:\n  - event: satellite.heartbeat_lost\nactions:\n  - log: { message: hi }\n";

describe("messages about fields", () => {
  it("say a missing field is required and a field of the wrong kind what it must be, listing each in one 400", async () => {
    const answer = await call("POST", "/satellites", { region: "eu", offlineThresholdMs: "60s" });
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer)).toEqual({
      code: "invalid_input",
      message: "Invalid request: name is required; offlineThresholdMs must be a number, not a string.",
      details: {
        issues: [
          { path: "name", message: "name is required" },
          { path: "offlineThresholdMs", message: "offlineThresholdMs must be a number, not a string" },
        ],
      },
    });
  });

  it("name an unknown field, with the fields the object knows", async () => {
    const answer = await call("PATCH", "/satellites/6f0c2a4e-1b2c-4d3e-8f40-123456789abc", { regoin: "eu" });
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer).details.issues).toEqual([
      { path: "regoin", message: 'unknown field "regoin" (did you mean region? known: name, region, tags, offlineThresholdMs)' },
    ]);
  });

  it("list the values an enum allows, deep in an automation, at the field's path", async () => {
    const answer = await call("POST", "/automations", {
      ...AUTOMATION,
      actions: [{ webhook: { url: "http://127.0.0.1:9/hook", method: "FETCH", timeoutMs: "5s" } }],
    });
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer).code).toBe("invalid_automation");
    expect(errorOf(answer).details.issues).toEqual([
      { path: "actions.0.webhook.method", message: "method must be one of GET, POST, PUT, PATCH, DELETE" },
      { path: "actions.0.webhook.timeoutMs", message: "timeoutMs must be a number, not a string" },
    ]);
    expect(errorOf(answer).message).toBe(
      "Invalid automation: actions.0.webhook.method: method must be one of GET, POST, PUT, PATCH, DELETE; actions.0.webhook.timeoutMs: timeoutMs must be a number, not a string.",
    );
  });

  it("are the same when /validate answers, without saving", async () => {
    const answer = await call("POST", "/automations/validate", { ...AUTOMATION, mode: "sometimes" });
    expect(answer.body).toEqual({ valid: false, errors: [{ path: "mode", message: "mode must be one of single, restart, queued, parallel" }] });
  });

  it("keep a schema's own words, with the field's name in front", async () => {
    const answer = await call("POST", "/notification-channels", { name: "  ", type: "webhook", config: { url: "http://127.0.0.1:9/hook" } });
    expect(errorOf(answer).details.issues).toEqual([{ path: "name", message: "name must not be empty" }]);
  });

  it("say what the body as a whole must be", async () => {
    const answer = await call("POST", "/satellites", [1, 2]);
    expect(errorOf(answer).details.issues).toEqual([
      { path: "", message: "the body must be an object (fields: name, region, tags, offlineThresholdMs), not an array" },
    ]);
  });

  it("say what a query parameter must be, as an invalid_query", async () => {
    const answer = await call("GET", "/satellites?limit=lots&colour=red");
    expect(answer.status, answer.text).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: "invalid_query",
      details: {
        issues: [
          { path: "limit", message: "limit must be a number" },
          { path: "colour", message: 'unknown parameter "colour" (known: limit, after)' },
        ],
      },
    });
  });
});

describe("a body that is not JSON", () => {
  it("sent as JSON to a route that takes YAML gets the hint to send it as YAML", async () => {
    for (const path of ["/automations", "/automations/validate"]) {
      const answer = await call("POST", path, YAML_AUTOMATION);
      expect(answer.status, answer.text).toBe(400);
      expect(errorOf(answer).code).toBe("invalid_input");
      expect(errorOf(answer).message).toMatch(
        /^Invalid request: the body is not valid JSON \(.+\); if this is YAML, send it with Content-Type: application\/yaml\.$/,
      );
    }
  });

  it("is read as YAML when its content type says so", async () => {
    const response = await api.app.request("/api/v1/automations/validate", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/yaml" },
      body: YAML_AUTOMATION,
    });
    expect(await response.json()).toMatchObject({ valid: true });
  });

  it("gets no YAML hint where YAML is not taken, only what JSON.parse found", async () => {
    const answer = await call("POST", "/satellites", "{ name: x }");
    expect(errorOf(answer).message).toMatch(/^Invalid request: the body is not valid JSON \(.+\)\.$/);
    expect(errorOf(answer).message).not.toContain("YAML");
  });

  it("that is empty is told to send a JSON document", async () => {
    const answer = await call("POST", "/satellites", "  ");
    expect(errorOf(answer).details.issues).toEqual([{ path: "", message: "the body is empty: send a JSON document" }]);
  });
});
