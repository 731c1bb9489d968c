// Every example request the OpenAPI document shows is sent to the whole core (in process) and
// must succeed with an answer that matches the schema documented for its status. Path
// parameters an example leaves out are the ids of resources earlier examples created: `{id}`
// after `/checks` is the id the `POST /checks` example answered (see docs/architecture.md).
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsPlugin from "ajv-formats";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { useFullApiApp } from "../../support/api/full-api-app.ts";

const api = useFullApiApp("openapi-examples");

// The examples name public hosts (example.com) for readers; sent here, their URLs point at this
// local server instead, so a check run or a channel's test delivery stays on the loopback.
const EXAMPLE_HOSTS = /https:\/\/(?:hooks\.)?example\.com/g;
let localTarget: ReturnType<typeof createServer>;
let localOrigin: string;
let localRequests = 0;

beforeAll(async () => {
  localTarget = createServer((request, response) => {
    localRequests += 1;
    request.resume();
    response.end("ok");
  });
  await new Promise<void>((resolve) => localTarget.listen(0, "127.0.0.1", resolve));
  localOrigin = `http://127.0.0.1:${(localTarget.address() as AddressInfo).port}`;
});

afterAll(async () => {
  localTarget.closeAllConnections();
  await new Promise((resolve) => localTarget.close(resolve));
});

// ajv-formats is CommonJS: its module object is the plugin itself.
const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

type Json = Record<string, unknown>;
interface Example {
  summary: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}
interface Pending {
  method: string;
  path: string;
  name: string;
  example: Example;
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}

/** Each operation's named examples, in document order. */
function examplesOf(document: { paths: Record<string, Record<string, Json>> }): Pending[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      Object.entries((operation["x-examples"] ?? {}) as Record<string, Example>).map(([name, example]) => ({
        method: method.toUpperCase(),
        path,
        name,
        example,
        responses: operation.responses as Pending["responses"],
      })),
    ),
  );
}

/** The request path with its parameters filled, or undefined while one is not known yet. */
function resolvePath(pending: Pending, created: Map<string, string>): string | undefined {
  const segments = pending.path.split("/");
  const filled = segments.map((segment, index) => {
    const name = /^\{(.+)\}$/.exec(segment)?.[1];
    if (!name) return segment;
    return pending.example.params?.[name] ?? created.get(segments[index - 1] ?? "");
  });
  return filled.includes(undefined) ? undefined : filled.join("/");
}

/** What a successful create answered: its id, under the collection it was created in. */
function remember(created: Map<string, string>, path: string, body: unknown): void {
  if (body === null || typeof body !== "object") return;
  const { id, run } = body as { id?: unknown; run?: { id?: unknown } };
  if (typeof id === "string") created.set(path.split("/").at(-1)!, id);
  if (typeof run?.id === "string") created.set("runs", run.id);
}

describe("the OpenAPI document's examples", () => {
  it("each succeeds and answers as its response schema says", async () => {
    const document = (await (await api.app.request("/api/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, Json>>;
      components: { schemas: Json };
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    // The document's components as $defs of each response schema, so its references resolve.
    const defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll("#/components/schemas/", "#/$defs/")) as Json;
    const validatorOf = (schema: Json) =>
      ajv.compile({ ...(JSON.parse(JSON.stringify(schema).replaceAll("#/components/schemas/", "#/$defs/")) as Json), $defs: defs });

    const pending = examplesOf(document);
    expect(pending.length).toBeGreaterThan(20);
    const created = new Map<string, string>();
    const failures: string[] = [];
    let sent = 0;
    while (pending.length > 0) {
      // Deletes last, newest resources first (an automation before the channel it notifies).
      const others = pending.filter((item) => item.method !== "DELETE");
      const candidates = others.length > 0 ? others : [...pending].reverse();
      const next = candidates.find((item) => resolvePath(item, created) !== undefined);
      if (!next) {
        failures.push(...pending.map((item) => `${item.method} ${item.path} (${item.name}): no value for a path parameter`));
        break;
      }
      pending.splice(pending.indexOf(next), 1);
      const query = new URLSearchParams(next.example.query ?? {}).toString();
      const url = `${resolvePath(next, created)}${query ? `?${query}` : ""}`;
      const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      if (next.example.body !== undefined) headers["content-type"] = "application/json";
      const response = await api.app.request(url, {
        method: next.method,
        headers,
        body: next.example.body === undefined ? undefined : JSON.stringify(next.example.body).replaceAll(EXAMPLE_HOSTS, localOrigin),
      });
      sent += 1;
      const text = await response.text();
      const label = `${next.method} ${url} (${next.name}) → ${response.status}`;
      const documented = next.responses[String(response.status)];
      if (response.status >= 300 || !documented) {
        failures.push(`${label}: not a documented success: ${text.slice(0, 500)}`);
        continue;
      }
      const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
      const content = documented.content;
      if (!content) {
        if (text !== "") failures.push(`${label}: documented without a body, answered ${text.slice(0, 200)}`);
        continue;
      }
      const schema = content[type]?.schema;
      if (!schema) {
        failures.push(`${label}: answered ${type}, documented ${Object.keys(content).join(", ")}`);
        continue;
      }
      const body: unknown = type === "application/json" ? JSON.parse(text) : text;
      const validate = validatorOf(schema);
      if (!validate(body)) failures.push(`${label}: ${ajv.errorsText(validate.errors)}; body ${text.slice(0, 500)}`);
      else if (next.method === "POST") remember(created, next.path, body);
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(30);
    // The check runs and the channel's test delivery reached the local server, not the internet.
    expect(localRequests).toBeGreaterThan(0);
    // Well over a hundred requests in sequence, each a real write or read on PostgreSQL.
  }, 120_000);
});
