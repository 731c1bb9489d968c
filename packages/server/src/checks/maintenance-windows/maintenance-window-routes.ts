// /api/v1/maintenance-windows: create, list (keyset pages in name order), read, replace (PUT,
// taking back what a GET answered) and delete. Bodies JSON or YAML, answers JSON or YAML by
// Accept; a window is validated whole (errors at their paths) before any write.
import { type MaintenanceWindowDefinition, maintenanceWindowSchema, validateInput } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { invalidInput } from "../../errors.ts";
import { defineReadOnlyFields, jsonOrYamlResponse, pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { cursorSchema, encodeCursor } from "../api/list-query.ts";
import {
  DEFAULT_WINDOW_PAGE,
  DERIVED_WINDOW_FIELDS,
  MAX_WINDOW_PAGE,
  type MaintenanceWindowStore,
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
  cursor: cursorSchema.optional(),
});

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

  routes.post("/", async (c) => jsonOrYamlResponse(c, await store.create(validateWindow(await readBody(c))), 201));

  routes.get("/", async (c) => {
    const query = readQuery(c.req.query(), listQuerySchema);
    const page = await store.list({ limit: query.limit, ...(query.cursor === undefined ? {} : { after: query.cursor }) });
    return c.json({ windows: page.windows, nextCursor: page.after === null ? null : encodeCursor(page.after) });
  });

  routes.get("/:id", async (c) => jsonOrYamlResponse(c, await store.get(idOf(c))));

  routes.put("/:id", async (c) => {
    const body = withoutDerived(await readBody(c));
    const replaced = await store.replace(idOf(c), (stored) => validateWindow(readOnlyFields.drop(body, windowView(stored, now())).definition));
    return jsonOrYamlResponse(c, replaced);
  });

  routes.delete("/:id", async (c) => {
    await store.remove(idOf(c));
    return c.body(null, 204);
  });

  return routes;
}
