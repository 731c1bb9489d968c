// The checks API at /api/v1/checks: create, list (keyset pages, filters), the definition's JSON
// Schema, read, replace (PUT), merge-patch (PATCH, RFC 7396), enable, disable, delete. Bodies
// are JSON or YAML, answers JSON or YAML by Accept; a definition is validated whole before any
// write, and credential headers always show as `<redacted>`.
import { anyCheckDefinitionJsonSchema } from "@vantage/protocol";
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { pingTokenResponseSchema } from "@vantage/protocol";
import { applyMergePatch, defineReadOnlyFields, describeRoute, jsonOrYamlResponse, pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";
import { type CheckRow, checkView, HEALTH_SUMMARY_FIELDS } from "../definitions/check-view.ts";
import { type AnyCheckDefinition, isHeartbeatCheck, validateAnyCheck, type ValidateCheckOptions } from "../definitions/validate-check.ts";
import { issuePingToken, pingUrlOf } from "../heartbeat/ping-tokens.ts";
import { addHistoryRoute, requestWriteContext as who } from "../../audit/index.ts";
import { VantageError } from "../../errors.ts";
import type pg from "pg";
import { anyCheckDefinitionSchema, checkAnswerSchema, checkPageSchema, createdCheckSchema, exampleCheck, exampleHeartbeatCheck } from "./check-api-schemas.ts";
import { encodeCursor, listQuerySchema } from "./list-query.ts";
import type { SummaryReader } from "./summary-routes.ts";

export interface CheckRoutesOptions extends ValidateCheckOptions {
  store: CheckStore;
  /** Where heartbeat checks' ping tokens are issued. */
  pool: pg.Pool;
  now: () => number;
  /** Reads the summaries a list page carries when asked (`summaries=24h`). */
  summaries: SummaryReader;
}

// What a GET answered comes back in a PUT (GET → edit → PUT) with its read-only fields: matching ones are dropped.
const readOnlyFields = defineReadOnlyFields({ resource: "check", versionField: "revision", invalidCode: "invalid_check", changedCode: "check_changed" });

const readBody = (c: Context): Promise<unknown> => readJsonOrYamlBody(c, z.unknown());

/** A body as a GET answered it carries the check's health: derived, so dropped whatever it says. */
function withoutHealth(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const rest: Record<string, unknown> = { ...body };
  for (const field of HEALTH_SUMMARY_FIELDS) delete rest[field];
  return rest;
}

const CHANGED = "The body's `revision` is older than the stored one (`check_changed`): GET the check again.";
const TAKEN = "Another check has this name (`check_name_taken`).";
const checkAnswer = (description: string) => ({ description, schema: checkAnswerSchema });

// The examples create the heartbeat check first: `{id}` in the later examples is the HTTP check's.
const docs = {
  create: describeRoute({
    summary: "Create a check",
    description:
      "An http, tcp, dns or tls check (GET /api/v1/checks/schema has its JSON Schema), or a heartbeat check that a job pings; the definition is validated whole. A heartbeat check's answer carries its ping token, shown this once.",
    body: anyCheckDefinitionSchema,
    yaml: true,
    responses: { 201: { description: "Created", schema: createdCheckSchema } },
    errors: { 409: TAKEN },
    examples: {
      heartbeat: { summary: "A heartbeat check for a nightly job", body: exampleHeartbeatCheck },
      http: { summary: "An HTTP check from the core", body: exampleCheck },
    },
  }),
  rotatePingToken: describeRoute({
    summary: "Rotate a heartbeat check's ping token",
    description: "A new token (shown this once); the old one stops working at once.",
    responses: { 200: { description: "The new token and its ping URL", schema: pingTokenResponseSchema } },
    errors: { 409: "The check is not a heartbeat check (`not_a_heartbeat_check`)." },
  }),
  list: describeRoute({
    summary: "List checks",
    description:
      "By name, in keyset pages, each with its health status; filter by type, labels (`label=team=web`, repeatable), enabled, name prefix, health status or location (`core` or a satellite's id). " +
      "With `summaries=24h` (or `90d`) the page also carries its checks' health and uptime bars, so a list shows a page whole after one request.",
    query: listQuerySchema,
    responses: { 200: { description: "A page", schema: checkPageSchema } },
    examples: { web: { summary: "The web team's HTTP checks", query: { type: "http", label: "team=web" } } },
  }),
  schema: describeRoute({
    summary: "The check definition's JSON Schema",
    description: "Every type a check can have: http, tcp, dns, tls and heartbeat (told apart by `type`); it refuses what POST and PUT refuse.",
    responses: { 200: { description: "JSON Schema (draft 2020-12)", schema: z.record(z.string(), z.unknown()) } },
    examples: { schema: { summary: "For editors" } },
  }),
  read: describeRoute({
    summary: "Read a check",
    description: "Its definition, with its health status (`status`, `statusSince`, `statusReason`: read-only, ignored in a PUT or PATCH).",
    yaml: true,
    responses: { 200: checkAnswer("The check") },
    examples: { read: { summary: "One check" } },
  }),
  replace: describeRoute({
    summary: "Replace a check",
    description:
      "The whole definition (what a GET answered, edited, may come back with its read-only fields); `<redacted>` header values keep the stored ones.",
    body: anyCheckDefinitionSchema,
    yaml: true,
    responses: { 200: checkAnswer("The check as it is now") },
    errors: { 409: `${CHANGED} Or: ${TAKEN}` },
    examples: { slower: { summary: "Every five minutes", body: { ...exampleCheck, intervalSeconds: 300 } } },
  }),
  patch: describeRoute({
    summary: "Change part of a check",
    description: "A JSON merge patch (RFC 7396) over the check as a GET shows it.",
    body: z.record(z.string(), z.unknown()),
    yaml: true,
    responses: { 200: checkAnswer("The check as it is now") },
    errors: { 409: `${CHANGED} Or: ${TAKEN}` },
    examples: { relabel: { summary: "A new label", body: { labels: { team: "web", tier: "1" } } } },
  }),
  enable: describeRoute({
    summary: "Enable a check",
    yaml: true,
    responses: { 200: checkAnswer("The check") },
    examples: { enable: { summary: "Run it again" } },
  }),
  disable: describeRoute({
    summary: "Disable a check",
    description: "It stops running; a heartbeat check still takes its pings but records nothing.",
    yaml: true,
    responses: { 200: checkAnswer("The check") },
    examples: { disable: { summary: "Stop running it" } },
  }),
  remove: describeRoute({ summary: "Delete a check", responses: { 204: { description: "Deleted" } }, examples: { remove: { summary: "Delete it" } } }),
};

export function createCheckRoutes(options: CheckRoutesOptions): Hono {
  const { store } = options;
  const routes = new Hono();
  const idOf = (c: Context): string => pathId(c, "id", checkNotFound);

  /**
   * The definition a replace or patch stores over `stored` (read under its row lock), from the
   * body as the client edited it: its read-only fields checked against the stored ones (a
   * `revision` it read that is no longer current is a 409), then validated whole with
   * `<redacted>` headers kept.
   */
  const replacement = (edited: unknown, stored: CheckRow): AnyCheckDefinition =>
    validateAnyCheck(readOnlyFields.drop(withoutHealth(edited), checkView(stored)).definition, stored.definition, options);

  /** A new ping token for a heartbeat check: the only answers that ever show it. */
  const pingToken = async (checkId: string) => {
    const token = await issuePingToken(options.pool, checkId, options.now());
    return { pingToken: token, pingUrl: pingUrlOf(token) };
  };

  routes.post("/", docs.create, async (c) => {
    const created = await store.create(validateAnyCheck(await readBody(c), null, options), undefined, who(c));
    // A heartbeat check is created with its token (shown here once); should this process die in
    // between, rotate-ping-token gives it one.
    return jsonOrYamlResponse(c, isHeartbeatCheck(created) ? { ...created, ...(await pingToken(created.id)) } : created, 201);
  });

  routes.post("/:id/rotate-ping-token", docs.rotatePingToken, async (c) => {
    const check = await store.get(idOf(c));
    if (!isHeartbeatCheck(check)) {
      throw new VantageError("conflict", "not_a_heartbeat_check", `Check ${check.id} is a ${check.type} check; only heartbeat checks have a ping token.`);
    }
    return c.json(await pingToken(check.id));
  });

  routes.get("/", docs.list, async (c) => {
    const labels = c.req.queries("label");
    const query = readQuery(labels === undefined ? c.req.query() : { ...c.req.query(), label: labels }, listQuerySchema);
    const page = await store.list(query.list);
    const answer = { checks: page.checks, nextCursor: page.after === null ? null : encodeCursor(page.after) };
    if (query.summaries === undefined) return c.json(answer);
    return c.json({
      ...answer,
      summaries: await options.summaries(
        page.checks.map((check) => check.id),
        query.summaries,
      ),
    });
  });

  // The definition's JSON Schema, for editors (registered before /:id, which would take "schema").
  routes.get("/schema", docs.schema, (c) => c.json(anyCheckDefinitionJsonSchema));

  routes.get("/:id", docs.read, async (c) => jsonOrYamlResponse(c, await store.get(idOf(c))));

  routes.put("/:id", docs.replace, async (c) => {
    const body = await readBody(c);
    return jsonOrYamlResponse(c, await store.edit(idOf(c), (stored) => replacement(body, stored), undefined, who(c)));
  });

  // The patch applies to the check as a GET shows it (headers `<redacted>`, so untouched ones are kept).
  routes.patch("/:id", docs.patch, async (c) => {
    const patch = await readBody(c);
    return jsonOrYamlResponse(c, await store.edit(idOf(c), (stored) => replacement(applyMergePatch(checkView(stored), patch), stored), undefined, who(c)));
  });

  routes.post("/:id/enable", docs.enable, async (c) => jsonOrYamlResponse(c, await store.setEnabled(idOf(c), true, who(c))));

  routes.post("/:id/disable", docs.disable, async (c) => jsonOrYamlResponse(c, await store.setEnabled(idOf(c), false, who(c))));

  routes.delete("/:id", docs.remove, async (c) => {
    await store.remove(idOf(c), undefined, who(c));
    return c.body(null, 204);
  });

  addHistoryRoute(routes, { pool: options.pool, kind: "check", noun: "check", notFound: checkNotFound, assertExists: (id) => store.get(id) });

  return routes;
}
