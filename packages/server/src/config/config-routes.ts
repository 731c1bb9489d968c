// The config-as-code API at /api/v1/config: plan and apply a bundle (JSON or YAML), export the
// current resources as one, a resource's apply history, and the JSON Schema of a resource.
import { bundleResourceJsonSchema, configRequestSchema, RESOURCE_KINDS, safeText, uuidSchema } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { requestActor } from "../auth/index.ts";
import { describeRoute, jsonOrYamlResponse, readJsonOrYamlBody, readQuery } from "../http/index.ts";
import { applyResultSchema, bundleTrialSchema, configExportSchema, configOwnersSchema, configHistorySchema, configPlanSchema } from "./config-api-schemas.ts";
import type { ConfigService } from "./config-service.ts";
import { ownersOf, resourceHistory } from "./ownership-store.ts";
import type { ConfigSecretStore } from "./secrets/config-secret-store.ts";
import { createSecretRoutes } from "./secrets/secret-routes.ts";
import type pg from "pg";

const LABEL = /^([^=]+)=(.*)$/;

const exportQuerySchema = z.strictObject({
  kind: z.array(z.enum(RESOURCE_KINDS)).optional().describe("Only these kinds (repeatable)."),
  label: z.array(safeText().regex(LABEL, "must be key=value")).optional().describe("`key=value`: only resources carrying every one (repeatable)."),
  bundle: safeText().min(1).max(100).optional().describe("Only the resources this bundle owns."),
});

const testQuerySchema = z.strictObject({
  satellite: safeText().min(1).max(200).optional().describe("Run the checks on this satellite (by name) instead of the core."),
});

const ownersQuerySchema = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  id: z.array(uuidSchema()).max(500).optional().describe("Only these resources (repeatable); none: every owned one of the kind."),
});

const historyQuerySchema = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  name: safeText().min(1),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const INVALID = "The bundle is invalid (`invalid_bundle`); `details.issues` lists each problem at its path (`resources.<i>.…`).";
const exampleBundle = {
  bundle: "ops",
  resources: [{ kind: "NotificationChannel", name: "ops-bundle-webhook", spec: { type: "webhook", config: { url: "https://hooks.example.com/vantage" } } }],
};

const docs = {
  plan: describeRoute({
    summary: "Plan a config bundle",
    description:
      "What an apply of the bundle would do, resource by resource and field by field, with drift (edits made outside the bundle) and adoptions; writes nothing. Its `fingerprint` lets an apply refuse a state that moved since.",
    body: configRequestSchema,
    yaml: true,
    responses: { 200: { description: "The plan", schema: configPlanSchema } },
    errors: { 400: INVALID },
    examples: { channel: { summary: "One webhook channel", body: exampleBundle } },
  }),
  apply: describeRoute({
    summary: "Apply a config bundle",
    description:
      "Plans again and carries the plan out in one transaction: all or nothing. The caller is the actor of every change, the apply its cause (with `commit` when given).",
    body: configRequestSchema,
    yaml: true,
    responses: { 200: { description: "What was applied", schema: applyResultSchema } },
    errors: {
      400: INVALID,
      409: "The state moved since the plan whose `fingerprint` was given (`config_plan_stale`), or a write failed (`config_apply_failed`; `details` names the resource): nothing was applied.",
    },
    examples: { empty: { summary: "A bundle that holds nothing yet", body: { bundle: "ops-example", resources: [] } } },
  }),
  test: describeRoute({
    summary: "Test a config bundle",
    description:
      "Validates the whole bundle as a plan does (automations compiled, channels named) and runs each of its checks once, on the core or on one satellite; saves nothing.",
    query: testQuerySchema,
    body: configRequestSchema,
    yaml: true,
    responses: { 200: { description: "The plan and each check's run", schema: bundleTrialSchema } },
    errors: { 400: INVALID, 404: "No satellite has that name (`satellite_not_found`)." },
    examples: { empty: { summary: "A bundle with nothing to run", body: { bundle: "ops-example", resources: [] } } },
  }),
  export: describeRoute({
    summary: "Export resources as a bundle",
    description: 'The current resources as a bundle\'s files hold them; secrets show as `<redacted>`, which a plan reads as "keep".',
    query: exportQuerySchema,
    yaml: true,
    responses: { 200: { description: "The resources", schema: configExportSchema } },
    examples: { checks: { summary: "Every check", query: { kind: "Check" } }, bundle: { summary: "What one bundle owns", query: { bundle: "ops" } } },
  }),
  owners: describeRoute({
    summary: "Which bundle manages a resource",
    description:
      'The bundles owning resources of a kind (all of them, or the `id`s asked): the UI marks those "managed by <bundle>" and warns before an edit, which the next plan would show as drift.',
    query: ownersQuerySchema,
    responses: { 200: { description: "The owned ones among them", schema: configOwnersSchema } },
    examples: { checks: { summary: "Every managed check", query: { kind: "Check" } } },
  }),
  history: describeRoute({
    summary: "A resource's apply history",
    description: "The applies that changed the resource (by its current or a past name), newest first.",
    query: historyQuerySchema,
    responses: { 200: { description: "Its changes", schema: configHistorySchema } },
    examples: { channel: { summary: "A channel's applies", query: { kind: "NotificationChannel", name: "ops-webhook", limit: "20" } } },
  }),
  schema: describeRoute({
    summary: "A bundle resource's JSON Schema",
    description: "For editors: one `{ kind, name, spec }` resource of a bundle file.",
    responses: { 200: { description: "JSON Schema", schema: z.record(z.string(), z.unknown()) } },
    examples: { schema: { summary: "For editors" } },
  }),
};

export function createConfigRoutes(options: { service: ConfigService; pool: pg.Pool; secrets: ConfigSecretStore }): Hono {
  const { service } = options;
  const routes = new Hono();

  routes.route("/secrets", createSecretRoutes(options.secrets));

  routes.post("/plan", docs.plan, async (c) => c.json(await service.plan(await readJsonOrYamlBody(c, configRequestSchema))));

  // The caller (a user, an API token or the admin token) is the actor of every change the apply makes.
  routes.post("/apply", docs.apply, async (c) => c.json(await service.apply(await readJsonOrYamlBody(c, configRequestSchema), requestActor(c))));

  routes.post("/test", docs.test, async (c) => {
    const query = readQuery(c.req.query(), testQuerySchema);
    return c.json(await service.test(await readJsonOrYamlBody(c, configRequestSchema), query));
  });

  routes.get("/export", docs.export, async (c) => {
    const bundle = c.req.query("bundle");
    const query = readQuery(
      { kind: c.req.queries("kind") ?? [], label: c.req.queries("label") ?? [], ...(bundle === undefined ? {} : { bundle }) },
      exportQuerySchema,
    );
    const labels = Object.fromEntries((query.label ?? []).map((label) => LABEL.exec(label)!.slice(1, 3)));
    const filter = { kinds: query.kind?.length ? query.kind : undefined, labels, ...(query.bundle === undefined ? {} : { bundle: query.bundle }) };
    return jsonOrYamlResponse(c, { resources: await service.export(filter) });
  });

  routes.get("/owners", docs.owners, async (c) => {
    const query = readQuery({ kind: c.req.query("kind") ?? "", ...(c.req.queries("id") ? { id: c.req.queries("id")! } : {}) }, ownersQuerySchema);
    return c.json({ owners: await ownersOf(options.pool, query.kind, query.id) });
  });

  routes.get("/history", docs.history, async (c) => {
    const query = readQuery(c.req.query(), historyQuerySchema);
    return c.json({ changes: await resourceHistory(options.pool, query.kind, query.name, query.limit) });
  });

  routes.get("/schema", docs.schema, (c) => c.json(bundleResourceJsonSchema));

  return routes;
}
