// The automations API at /api/v1/automations: CRUD (JSON or YAML), validation without saving,
// enable, disable; the runs and skips the router recorded, newest first. Definitions compile
// before any write; webhook secrets show as <redacted>.
import { automationDefinitionJsonSchema, type Issue, uuidSchema } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type pg from "pg";
import type { SecretBox } from "../../crypto/index.ts";
import { invalidInput, type VantageError } from "../../errors.ts";
import { nextCursor, readQuery } from "../../http/index.ts";
import type { NotificationService } from "../../notifications/index.ts";
import type { AutomationCompiler } from "../definitions/automation-compiler.ts";
import type { CompiledAutomation } from "../definitions/compile-automation.ts";
import { DEFAULT_LIST_LIMIT, listRuns, listSkips, MAX_LIST_LIMIT, RUN_STATUSES, SKIP_REASONS } from "../runs/automation-runs.ts";
import { AutomationStore, type AutomationView } from "../definitions/automation-store.ts";
import { automationIdOf } from "./path-ids.ts";
import { checkNotifyChannels } from "./notify-channels.ts";
import { automationResponse } from "./automation-response.ts";
import { readDefinitionBody } from "./read-definition-body.ts";
import { dropReadOnlyFields } from "../definitions/read-only-fields.ts";
import { createRunRoutes } from "./run-routes.ts";
import { redactSecrets, restoreSecrets } from "../definitions/webhook-secrets.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export interface AutomationRoutesOptions {
  pool: pg.Pool;
  /** The instance's one compiler: every definition compiles before any write. */
  compiler: AutomationCompiler;
  /** A manual run's payload is checked against its triggers' payload schemas. */
  triggers: Pick<TriggerRegistry, "get">;
  /** Seals webhook secrets at rest. */
  box: SecretBox;
  /** `notify` steps must name one of its channels. */
  notifications: Pick<NotificationService, "channels">;
}

const invalidDefinition = (issues: Issue[]): VantageError => invalidInput(issues, { code: "invalid_automation" });

// The query of a runs or skips list: `limit` (1…MAX_LIST_LIMIT), a filter (`status`,
// `reason`) and `before` (the last id of the previous page).
const pageFields = {
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  before: uuidSchema("must be the id of a row of the previous page").optional(),
};
const runsQuerySchema = z.strictObject({ ...pageFields, status: z.enum(RUN_STATUSES).optional() });
const skipsQuerySchema = z.strictObject({ ...pageFields, reason: z.enum(SKIP_REASONS).optional() });

export function createAutomationRoutes(options: AutomationRoutesOptions): Hono {
  const store = new AutomationStore(options.pool, options.box);
  const routes = new Hono();

  const compile = (body: unknown): CompiledAutomation => {
    const result = options.compiler.compile(body);
    if (!result.ok) throw invalidDefinition(result.errors);
    return result.compiled;
  };
  /** Compiles the body, with `<redacted>` secrets taken from the stored version (if any), and checks its notify channels. */
  const compileBody = async (body: unknown, stored: AutomationView | null): Promise<CompiledAutomation> => {
    const restored = restoreSecrets(compile(body).definition, stored);
    if (restored.issues.length > 0) throw invalidDefinition(restored.issues);
    const compiled = compile(restored.document);
    const unknownChannels = await checkNotifyChannels(compiled.definition.actions, options.notifications);
    if (unknownChannels.length > 0) throw invalidDefinition(unknownChannels);
    return compiled;
  };

  routes.post("/validate", async (c) => {
    const result = options.compiler.compile(await readDefinitionBody(c));
    const errors = result.ok ? await checkNotifyChannels(result.compiled.definition.actions, options.notifications) : result.errors;
    return c.json(result.ok && errors.length === 0 ? { valid: true, errors: [], events: result.compiled.eventIds } : { valid: false, errors });
  });

  routes.post("/", async (c) => automationResponse(c, await store.create(await compileBody(await readDefinitionBody(c), null)), 201));

  routes.get("/", async (c) => c.json({ automations: (await store.list()).map(redactSecrets) }));

  // The definition's JSON Schema, for editors (registered before /:id, which would take "schema").
  routes.get("/schema", (c) => c.json(automationDefinitionJsonSchema));

  routes.get("/:id", async (c) => automationResponse(c, await store.get(automationIdOf(c))));

  routes.put("/:id", async (c) => {
    const id = automationIdOf(c);
    // Read first: an unknown id is a 404 even when the body is also invalid.
    const stored = await store.getWithSecrets(id);
    // What a GET answered, edited, comes back with its read-only fields: matching ones are dropped.
    const { definition, readVersion } = dropReadOnlyFields(await readDefinitionBody(c), stored);
    return automationResponse(c, await store.replace(id, await compileBody(definition, stored), readVersion));
  });

  routes.post("/:id/enable", async (c) => automationResponse(c, await store.setEnabled(automationIdOf(c), true)));

  routes.post("/:id/disable", async (c) => automationResponse(c, await store.setEnabled(automationIdOf(c), false)));

  routes.get("/:id/runs", async (c) => {
    const { status, ...query } = readQuery(c.req.query(), runsQuerySchema);
    const { id } = await store.get(automationIdOf(c));
    const runs = await listRuns(options.pool, id, { ...query, filter: status });
    return c.json({ runs, next: nextCursor(runs, query.limit, (run) => run.id) });
  });

  routes.get("/:id/skips", async (c) => {
    const { reason, ...query } = readQuery(c.req.query(), skipsQuerySchema);
    const { id } = await store.get(automationIdOf(c));
    const skips = await listSkips(options.pool, id, { ...query, filter: reason });
    return c.json({ skips, next: nextCursor(skips, query.limit, (skip) => skip.id) });
  });

  routes.route("/", createRunRoutes({ pool: options.pool, store, triggers: options.triggers }));

  routes.delete("/:id", async (c) => {
    await store.remove(automationIdOf(c));
    return c.body(null, 204);
  });

  return routes;
}
