// The config-as-code API at /api/v1/config: plan and apply a bundle (JSON or YAML), export the
// current resources as one, a resource's apply history, and the JSON Schema of a resource.
import { bundleResourceJsonSchema, configRequestSchema, RESOURCE_KINDS, safeText } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { requestActor } from "../auth/index.ts";
import { jsonOrYamlResponse, readJsonOrYamlBody, readQuery } from "../http/index.ts";
import type { ConfigService } from "./config-service.ts";
import { resourceHistory } from "./ownership-store.ts";
import type pg from "pg";

const LABEL = /^([^=]+)=(.*)$/;

const exportQuerySchema = z.strictObject({
  kind: z.array(z.enum(RESOURCE_KINDS)).optional(),
  label: z.array(safeText().regex(LABEL, "must be key=value")).optional(),
});

const historyQuerySchema = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  name: safeText().min(1),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function createConfigRoutes(options: { service: ConfigService; pool: pg.Pool }): Hono {
  const { service } = options;
  const routes = new Hono();

  routes.post("/plan", async (c) => c.json(await service.plan(await readJsonOrYamlBody(c, configRequestSchema))));

  // The caller (a user, an API token or the admin token) is the actor of every change the apply makes.
  routes.post("/apply", async (c) => c.json(await service.apply(await readJsonOrYamlBody(c, configRequestSchema), requestActor(c))));

  routes.get("/export", async (c) => {
    const query = readQuery({ kind: c.req.queries("kind") ?? [], label: c.req.queries("label") ?? [] }, exportQuerySchema);
    const labels = Object.fromEntries((query.label ?? []).map((label) => LABEL.exec(label)!.slice(1, 3)));
    return jsonOrYamlResponse(c, { resources: await service.export({ kinds: query.kind?.length ? query.kind : undefined, labels }) });
  });

  routes.get("/history", async (c) => {
    const query = readQuery(c.req.query(), historyQuerySchema);
    return c.json({ changes: await resourceHistory(options.pool, query.kind, query.name, query.limit) });
  });

  routes.get("/schema", (c) => c.json(bundleResourceJsonSchema));

  return routes;
}
