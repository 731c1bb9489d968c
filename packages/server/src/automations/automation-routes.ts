// The automations API at /api/v1/automations: CRUD (JSON or YAML), validation without saving,
// enable, disable; the runs and skips the router recorded, newest first. Definitions compile
// before any write; webhook secrets show as <redacted>.
import { automationDefinitionJsonSchema } from "@vantage/protocol";
import { Hono } from "hono";
import type pg from "pg";
import type { SecretBox } from "../crypto/index.ts";
import { VantageError } from "../errors.ts";
import type { NotificationService } from "../notifications/index.ts";
import { type CompiledAutomation, type CompileOptions, compileAutomation } from "./compile-automation.ts";
import type { AutomationIssue } from "./compile-scope.ts";
import { DEFAULT_LIST_LIMIT, listRuns, listSkips, MAX_LIST_LIMIT } from "./automation-runs.ts";
import { AutomationStore, type AutomationView } from "./automation-store.ts";
import { checkNotifyChannels } from "./notify-channels.ts";
import { readDefinitionBody } from "./read-definition-body.ts";
import { createRunRoutes } from "./run-routes.ts";
import { redactSecrets, restoreSecrets } from "./webhook-secrets.ts";

export interface AutomationRoutesOptions extends CompileOptions {
  pool: pg.Pool;
  /** Seals webhook secrets at rest. */
  box: SecretBox;
  /** `notify` steps must name one of its channels. */
  notifications: Pick<NotificationService, "channels">;
}

function invalidDefinition(errors: AutomationIssue[]): VantageError {
  const summary = errors.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  return new VantageError("invalid_input", "invalid_automation", `Invalid automation: ${summary}.`, { details: { issues: errors } });
}

/** `?limit=` of the runs and skips lists: 1…MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT when absent. */
function listLimit(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new VantageError("invalid_input", "invalid_limit", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}.`);
  }
  return limit;
}

export function createAutomationRoutes(options: AutomationRoutesOptions): Hono {
  const store = new AutomationStore(options.pool, options.box);
  const compileOptions: CompileOptions = { triggers: options.triggers, entityKinds: options.entityKinds };
  const routes = new Hono();

  const compile = (body: unknown): CompiledAutomation => {
    const result = compileAutomation(body, compileOptions);
    if (!result.ok) throw invalidDefinition(result.errors);
    return result.compiled;
  };
  /** Compiles the body, with `<redacted>` secrets taken from the stored version (if any), and checks its notify channels. */
  const compileBody = async (body: unknown, stored: AutomationView | null): Promise<CompiledAutomation> => {
    const restored = restoreSecrets(compile(body).definition, stored);
    if (restored.errors.length > 0) throw invalidDefinition(restored.errors);
    const compiled = compile(restored.definition);
    const unknownChannels = await checkNotifyChannels(compiled.actions, options.notifications);
    if (unknownChannels.length > 0) throw invalidDefinition(unknownChannels);
    return compiled;
  };

  routes.post("/validate", async (c) => {
    const result = compileAutomation(await readDefinitionBody(c), compileOptions);
    const errors = result.ok ? await checkNotifyChannels(result.compiled.actions, options.notifications) : result.errors;
    return c.json(result.ok && errors.length === 0 ? { valid: true, errors: [], events: result.compiled.eventIds } : { valid: false, errors });
  });

  routes.post("/", async (c) => c.json(redactSecrets(await store.create(await compileBody(await readDefinitionBody(c), null))), 201));

  routes.get("/", async (c) => c.json({ automations: (await store.list()).map(redactSecrets) }));

  // The definition's JSON Schema, for editors (registered before /:id, which would take "schema").
  routes.get("/schema", (c) => c.json(automationDefinitionJsonSchema));

  routes.get("/:id", async (c) => c.json(redactSecrets(await store.get(c.req.param("id")))));

  routes.put("/:id", async (c) => {
    const id = c.req.param("id");
    // Read first: an unknown id is a 404 even when the body is also invalid.
    const stored = await store.getWithSecrets(id);
    return c.json(redactSecrets(await store.replace(id, await compileBody(await readDefinitionBody(c), stored))));
  });

  routes.post("/:id/enable", async (c) => c.json(redactSecrets(await store.setEnabled(c.req.param("id"), true))));

  routes.post("/:id/disable", async (c) => c.json(redactSecrets(await store.setEnabled(c.req.param("id"), false))));

  routes.get("/:id/runs", async (c) => {
    const limit = listLimit(c.req.query("limit"));
    const { id } = await store.get(c.req.param("id"));
    return c.json({ runs: await listRuns(options.pool, id, limit) });
  });

  routes.get("/:id/skips", async (c) => {
    const limit = listLimit(c.req.query("limit"));
    const { id } = await store.get(c.req.param("id"));
    return c.json({ skips: await listSkips(options.pool, id, limit) });
  });

  routes.route("/", createRunRoutes({ pool: options.pool, store }));

  routes.delete("/:id", async (c) => {
    await store.remove(c.req.param("id"));
    return c.body(null, 204);
  });

  return routes;
}
