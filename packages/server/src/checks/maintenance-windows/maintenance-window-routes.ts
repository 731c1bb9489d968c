// /api/v1/maintenance-windows: create, list (keyset pages in name order), read, replace (PUT,
// taking back what a GET answered) and delete. Bodies JSON or YAML, answers JSON or YAML by
// Accept; a window is validated whole (errors at their paths) before any write.
import { type MaintenanceWindowDefinition, maintenanceWindowSchema, validateInput } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { addHistoryRoute, requestWriteContext as who } from "../../audit/index.ts";
import { invalidInput } from "../../errors.ts";
import { defineReadOnlyFields, describeRoute, jsonOrYamlResponse, pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { cursorSchema, encodeCursor } from "../api/list-query.ts";
import {
  DEFAULT_WINDOW_PAGE,
  DERIVED_WINDOW_FIELDS,
  MAX_WINDOW_PAGE,
  type MaintenanceWindowStore,
  maintenanceWindowViewSchema,
  windowNotFound,
  windowView,
} from "./maintenance-window-store.ts";

const readOnlyFields = defineReadOnlyFields({
  resource: "maintenance window",
  versionField: "revision",
  invalidCode: "invalid_maintenance_window",
  changedCode: "maintenance_window_changed",
});

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_WINDOW_PAGE).default(DEFAULT_WINDOW_PAGE),
  cursor: cursorSchema.optional().describe("The `nextCursor` of the previous page."),
});

const INVALID = "The window is invalid (`invalid_maintenance_window`); `details.issues` lists each problem at its path.";
const NAME_TAKEN = "The name is taken (`maintenance_window_name_taken`).";
const windowAnswer = (description: string) => ({ description, schema: maintenanceWindowViewSchema });
const exampleWindow = {
  name: "staging-db-upgrade",
  description: "PostgreSQL 17 upgrade",
  checks: { labels: { env: "staging" } },
  start: "2030-01-05T02:00:00Z",
  end: "2030-01-05T04:00:00Z",
};

const docs = {
  create: describeRoute({
    summary: "Create a maintenance window",
    description:
      "Which checks (ids, a label selector or both) and when (a start and an end, optionally recurring weekly in a time zone). While it is on, the checks' health carries `maintenance: true` and their status triggers are skipped.",
    body: maintenanceWindowSchema,
    yaml: true,
    responses: { 201: windowAnswer("Created") },
    errors: { 400: INVALID, 409: NAME_TAKEN },
    examples: { upgrade: { summary: "Two hours on the staging checks", body: exampleWindow } },
  }),
  list: describeRoute({
    summary: "List maintenance windows",
    description: "By name, in keyset pages.",
    query: listQuerySchema,
    responses: {
      200: {
        description: "A page",
        schema: z.object({
          windows: z.array(maintenanceWindowViewSchema),
          nextCursor: z.string().nullable().describe("The `cursor` of the next page; null on the last."),
        }),
      },
    },
    examples: { first: { summary: "The first page", query: { limit: "20" } } },
  }),
  read: describeRoute({
    summary: "Read a maintenance window",
    yaml: true,
    responses: { 200: windowAnswer("The window") },
    examples: { read: { summary: "One window" } },
  }),
  replace: describeRoute({
    summary: "Replace a maintenance window",
    description:
      "The whole window (what a GET answered, edited): `active` and `occurrence` are derived and ignored; `id`, `revision`, `createdAt` and `updatedAt`, when sent, must match the stored ones.",
    body: maintenanceWindowSchema,
    yaml: true,
    responses: { 200: windowAnswer("The window as it is now") },
    errors: { 400: INVALID, 409: `${NAME_TAKEN} Or the body's \`revision\` is older than the stored one (\`maintenance_window_changed\`).` },
    examples: {
      weekly: {
        summary: "Every Saturday night in Berlin",
        body: { ...exampleWindow, recurrence: { frequency: "weekly", timeZone: "Europe/Berlin", days: ["sat"] } },
      },
    },
  }),
  remove: describeRoute({
    summary: "Delete a maintenance window",
    description: "Its checks leave maintenance at once unless another window holds them.",
    responses: { 204: { description: "Deleted" } },
    examples: { remove: { summary: "Delete it" } },
  }),
};

function validateWindow(body: unknown): MaintenanceWindowDefinition {
  const parsed = validateInput(maintenanceWindowSchema, body, { root: "the maintenance window" });
  if (!parsed.ok) throw invalidInput(parsed.issues, { code: "invalid_maintenance_window" });
  return parsed.value;
}

/** What a read derives (active, occurrence) comes back in a PUT of what a GET answered: dropped. */
function withoutDerived(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const rest: Record<string, unknown> = { ...body };
  for (const field of DERIVED_WINDOW_FIELDS) delete rest[field];
  return rest;
}

export interface MaintenanceWindowRoutesOptions {
  store: MaintenanceWindowStore;
  now: () => number;
}

export function createMaintenanceWindowRoutes({ store, now }: MaintenanceWindowRoutesOptions): Hono {
  const routes = new Hono();
  const idOf = (c: Context): string => pathId(c, "id", windowNotFound);
  const readBody = (c: Context): Promise<unknown> => readJsonOrYamlBody(c, z.unknown());

  routes.post("/", docs.create, async (c) => jsonOrYamlResponse(c, await store.create(validateWindow(await readBody(c)), who(c)), 201));

  routes.get("/", docs.list, async (c) => {
    const query = readQuery(c.req.query(), listQuerySchema);
    const page = await store.list({ limit: query.limit, ...(query.cursor === undefined ? {} : { after: query.cursor }) });
    return c.json({ windows: page.windows, nextCursor: page.after === null ? null : encodeCursor(page.after) });
  });

  routes.get("/:id", docs.read, async (c) => jsonOrYamlResponse(c, await store.get(idOf(c))));

  routes.put("/:id", docs.replace, async (c) => {
    const body = withoutDerived(await readBody(c));
    const replaced = await store.replace(idOf(c), (stored) => validateWindow(readOnlyFields.drop(body, windowView(stored, now())).definition), who(c));
    return jsonOrYamlResponse(c, replaced);
  });

  routes.delete("/:id", docs.remove, async (c) => {
    await store.remove(idOf(c), who(c));
    return c.body(null, 204);
  });

  const assertExists = (id: string) => store.get(id);
  addHistoryRoute(routes, { pool: store.pool, kind: "maintenance-window", noun: "maintenance window", notFound: windowNotFound, assertExists });

  return routes;
}
