// The automations API at /api/v1/automations: CRUD (JSON or YAML), validation without saving,
// enable, disable; the runs and skips the router recorded, newest first. Definitions compile
// before any write; webhook secrets show as <redacted>.
import { automationDefinitionJsonSchema, automationDefinitionSchema, type Issue, uuidSchema } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type pg from "pg";
import { addHistoryRoute, requestWriteContext as who } from "../../audit/index.ts";
import type { SecretBox } from "../../crypto/index.ts";
import { invalidInput, type VantageError } from "../../errors.ts";
import { describeRoute, nextCursor, readQuery } from "../../http/index.ts";
import type { NotificationService } from "../../notifications/index.ts";
import type { AutomationCompiler } from "../definitions/automation-compiler.ts";
import type { CompiledAutomation } from "../definitions/compile-automation.ts";
import { DEFAULT_LIST_LIMIT, lastRuns, listRuns, listSkips, MAX_LIST_LIMIT, RUN_STATUSES, SKIP_REASONS } from "../runs/automation-runs.ts";
import { AutomationStore, type AutomationView, automationNotFound } from "../definitions/automation-store.ts";
import { automationIdOf } from "./path-ids.ts";
import { checkNotifyChannels } from "./notify-channels.ts";
import { automationResponse } from "./automation-response.ts";
import { readDefinitionBody } from "./read-definition-body.ts";
import { dropReadOnlyFields } from "../definitions/read-only-fields.ts";
import { createRunRoutes } from "./run-routes.ts";
import { createReplayRoutes } from "./replay-routes.ts";
import type { ReplayJobs } from "../replay/replay-jobs.ts";
import {
  automationListItemSchema,
  automationViewSchema,
  exampleAutomation,
  runViewSchema,
  skipViewSchema,
  validationSchema,
} from "./automation-api-schemas.ts";
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
  /** Replays of drafts and saved automations over recorded history (mounted at /replay when given). */
  replays?: ReplayJobs;
  now?: () => number;
}

const invalidDefinition = (issues: Issue[]): VantageError => invalidInput(issues, { code: "invalid_automation" });

// The query of a runs or skips list: `limit` (1…MAX_LIST_LIMIT), a filter (`status`,
// `reason`) and `before` (the last id of the previous page).
const pageFields = {
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  before: uuidSchema("must be the id of a row of the previous page").optional().describe("The `next` of the previous page."),
};
const runsQuerySchema = z.strictObject({ ...pageFields, status: z.enum(RUN_STATUSES).optional() });
const skipsQuerySchema = z.strictObject({ ...pageFields, reason: z.enum(SKIP_REASONS).optional() });

const INVALID = "The definition is invalid (`invalid_automation`); `details.issues` lists each problem at its path.";
const automationAnswer = (description: string) => ({ description, schema: automationViewSchema });
const next = z.string().nullable().describe("The `before` of the next page; null on the last.");

const docs = {
  validate: describeRoute({
    summary: "Validate an automation without saving it",
    description: "200 either way: `valid` and `errors` say whether it would save.",
    body: automationDefinitionSchema,
    yaml: true,
    responses: { 200: { description: "The verdict", schema: validationSchema } },
    examples: { page: { summary: "Would it save?", body: exampleAutomation } },
  }),
  create: describeRoute({
    summary: "Create an automation",
    description: "Triggers, conditions and actions (GET /api/v1/automations/schema has the JSON Schema; GET /api/v1/triggers lists the events).",
    body: automationDefinitionSchema,
    yaml: true,
    responses: { 201: automationAnswer("Created") },
    errors: { 400: INVALID, 409: "The name is taken (`automation_name_taken`)." },
    examples: { page: { summary: "Page on unhealthy checks", body: exampleAutomation } },
  }),
  list: describeRoute({
    summary: "List automations",
    responses: { 200: { description: "Every automation, with its newest run", schema: z.object({ automations: z.array(automationListItemSchema) }) } },
    examples: { all: { summary: "Every automation" } },
  }),
  schema: describeRoute({
    summary: "The automation definition's JSON Schema",
    responses: { 200: { description: "JSON Schema (draft 2020-12)", schema: z.record(z.string(), z.unknown()) } },
    examples: { schema: { summary: "For editors" } },
  }),
  read: describeRoute({
    summary: "Read an automation",
    yaml: true,
    responses: { 200: automationAnswer("The automation") },
    examples: { read: { summary: "One automation" } },
  }),
  replace: describeRoute({
    summary: "Replace an automation",
    description: "The whole definition (what a GET answered, edited); `<redacted>` webhook secrets keep the stored ones.",
    body: automationDefinitionSchema,
    yaml: true,
    responses: { 200: automationAnswer("The automation as it is now") },
    errors: { 400: INVALID, 409: "The body's `version` is older than the stored one, or the name is taken." },
    examples: { queued: { summary: "Queue runs instead", body: { ...exampleAutomation, mode: "queued" } } },
  }),
  enable: describeRoute({
    summary: "Enable an automation",
    yaml: true,
    responses: { 200: automationAnswer("The automation") },
    examples: { enable: { summary: "Turn it on" } },
  }),
  disable: describeRoute({
    summary: "Disable an automation",
    yaml: true,
    responses: { 200: automationAnswer("The automation") },
    examples: { disable: { summary: "Turn it off" } },
  }),
  runs: describeRoute({
    summary: "An automation's runs",
    description: "Newest first, in keyset pages.",
    query: runsQuerySchema,
    responses: { 200: { description: "A page", schema: z.object({ runs: z.array(runViewSchema), next }) } },
    examples: { recent: { summary: "The latest runs", query: { limit: "10" } } },
  }),
  skips: describeRoute({
    summary: "An automation's skips",
    description: "Why it did not run (a false condition, busy, flapping, …), newest first, in keyset pages.",
    query: skipsQuerySchema,
    responses: { 200: { description: "A page", schema: z.object({ skips: z.array(skipViewSchema), next }) } },
    examples: { recent: { summary: "The latest skips" } },
  }),
  remove: describeRoute({ summary: "Delete an automation", responses: { 204: { description: "Deleted" } }, examples: { remove: { summary: "Delete it" } } }),
};

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

  routes.post("/validate", docs.validate, async (c) => {
    const result = options.compiler.compile(await readDefinitionBody(c));
    const errors = result.ok ? await checkNotifyChannels(result.compiled.definition.actions, options.notifications) : result.errors;
    return c.json(result.ok && errors.length === 0 ? { valid: true, errors: [], events: result.compiled.eventIds } : { valid: false, errors });
  });

  routes.post("/", docs.create, async (c) =>
    automationResponse(c, await store.create(await compileBody(await readDefinitionBody(c), null), undefined, who(c)), 201),
  );

  routes.get("/", docs.list, async (c) => {
    const automations = await store.list();
    const last = await lastRuns(
      options.pool,
      automations.map((automation) => automation.id),
    );
    return c.json({ automations: automations.map((automation) => ({ ...redactSecrets(automation), lastRun: last.get(automation.id) ?? null })) });
  });

  if (options.replays) routes.route("/replay", createReplayRoutes({ jobs: options.replays, compiler: options.compiler, store, now: options.now ?? Date.now }));

  // The definition's JSON Schema, for editors (registered before /:id, which would take "schema").
  routes.get("/schema", docs.schema, (c) => c.json(automationDefinitionJsonSchema));

  routes.get("/:id", docs.read, async (c) => automationResponse(c, await store.get(automationIdOf(c))));

  routes.put("/:id", docs.replace, async (c) => {
    const id = automationIdOf(c);
    // Read first: an unknown id is a 404 even when the body is also invalid.
    const stored = await store.getWithSecrets(id);
    // What a GET answered, edited, comes back with its read-only fields: matching ones are dropped.
    const { definition, readVersion } = dropReadOnlyFields(await readDefinitionBody(c), stored);
    return automationResponse(c, await store.replace(id, await compileBody(definition, stored), readVersion, undefined, who(c)));
  });

  routes.post("/:id/enable", docs.enable, async (c) => automationResponse(c, await store.setEnabled(automationIdOf(c), true, who(c))));

  routes.post("/:id/disable", docs.disable, async (c) => automationResponse(c, await store.setEnabled(automationIdOf(c), false, who(c))));

  routes.get("/:id/runs", docs.runs, async (c) => {
    const { status, ...query } = readQuery(c.req.query(), runsQuerySchema);
    const { id } = await store.get(automationIdOf(c));
    const runs = await listRuns(options.pool, id, { ...query, filter: status });
    return c.json({ runs, next: nextCursor(runs, query.limit, (run) => run.id) });
  });

  routes.get("/:id/skips", docs.skips, async (c) => {
    const { reason, ...query } = readQuery(c.req.query(), skipsQuerySchema);
    const { id } = await store.get(automationIdOf(c));
    const skips = await listSkips(options.pool, id, { ...query, filter: reason });
    return c.json({ skips, next: nextCursor(skips, query.limit, (skip) => skip.id) });
  });

  addHistoryRoute(routes, { pool: options.pool, kind: "automation", noun: "automation", notFound: automationNotFound, assertExists: (id) => store.get(id) });

  routes.route("/", createRunRoutes({ pool: options.pool, store, triggers: options.triggers }));

  routes.delete("/:id", docs.remove, async (c) => {
    await store.remove(automationIdOf(c), undefined, who(c));
    return c.body(null, 204);
  });

  return routes;
}
