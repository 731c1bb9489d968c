// The checks API at /api/v1/checks: create, list (keyset pages, filters), the definition's JSON
// Schema, read, replace (PUT), merge-patch (PATCH, RFC 7396), enable, disable, delete. Bodies
// are JSON or YAML, answers JSON or YAML by Accept; a definition is validated whole before any
// write, and credential headers always show as `<redacted>`.
import { checkDefinitionJsonSchema } from "@vantage/protocol";
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { applyMergePatch, defineReadOnlyFields, jsonOrYamlResponse, pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";
import { type CheckRow, checkView, HEALTH_SUMMARY_FIELDS } from "../definitions/check-view.ts";
import { type AnyCheckDefinition, isHeartbeatCheck, validateAnyCheck, type ValidateCheckOptions } from "../definitions/validate-check.ts";
import { issuePingToken } from "../heartbeat/ping-tokens.ts";
import { VantageError } from "../../errors.ts";
import type pg from "pg";
import { encodeCursor, listQuerySchema } from "./list-query.ts";

export interface CheckRoutesOptions extends ValidateCheckOptions {
  store: CheckStore;
  /** Where heartbeat checks' ping tokens are issued. */
  pool: pg.Pool;
  now: () => number;
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
    return { pingToken: token, pingUrl: `/hb/${token}` };
  };

  routes.post("/", async (c) => {
    const created = await store.create(validateAnyCheck(await readBody(c), null, options));
    // A heartbeat check is created with its token (shown here once); should this process die in
    // between, rotate-ping-token gives it one.
    return jsonOrYamlResponse(c, isHeartbeatCheck(created) ? { ...created, ...(await pingToken(created.id)) } : created, 201);
  });

  routes.post("/:id/rotate-ping-token", async (c) => {
    const check = await store.get(idOf(c));
    if (!isHeartbeatCheck(check)) {
      throw new VantageError("conflict", "not_a_heartbeat_check", `Check ${check.id} is a ${check.type} check; only heartbeat checks have a ping token.`);
    }
    return c.json(await pingToken(check.id));
  });

  routes.get("/", async (c) => {
    const labels = c.req.queries("label");
    const query = readQuery(labels === undefined ? c.req.query() : { ...c.req.query(), label: labels }, listQuerySchema);
    const page = await store.list(query);
    return c.json({ checks: page.checks, nextCursor: page.after === null ? null : encodeCursor(page.after) });
  });

  // The definition's JSON Schema, for editors (registered before /:id, which would take "schema").
  routes.get("/schema", (c) => c.json(checkDefinitionJsonSchema));

  routes.get("/:id", async (c) => jsonOrYamlResponse(c, await store.get(idOf(c))));

  routes.put("/:id", async (c) => {
    const body = await readBody(c);
    return jsonOrYamlResponse(c, await store.edit(idOf(c), (stored) => replacement(body, stored)));
  });

  // The patch applies to the check as a GET shows it (headers `<redacted>`, so untouched ones are kept).
  routes.patch("/:id", async (c) => {
    const patch = await readBody(c);
    return jsonOrYamlResponse(c, await store.edit(idOf(c), (stored) => replacement(applyMergePatch(checkView(stored), patch), stored)));
  });

  routes.post("/:id/enable", async (c) => jsonOrYamlResponse(c, await store.setEnabled(idOf(c), true)));

  routes.post("/:id/disable", async (c) => jsonOrYamlResponse(c, await store.setEnabled(idOf(c), false)));

  routes.delete("/:id", async (c) => {
    await store.remove(idOf(c));
    return c.body(null, 204);
  });

  return routes;
}
