// The runs of one automation over HTTP, under /api/v1/automations/:id: a run's trace (its
// trigger, condition verdicts and every step), cancelling an active run, and starting a run
// by hand. A manual run is only recorded and enqueued here; a worker executes it.
import { Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import { type InputIssue, readJsonBody, toInputIssues } from "../../http/index.ts";
import { withTransaction } from "../../storage/index.ts";
import { type DecisionKey, getRun, MANUAL_TRIGGER_ID, type RunView } from "../runs/automation-runs.ts";
import type { AutomationStore, AutomationView } from "../definitions/automation-store.ts";
import { isUuid } from "../definitions/ids.ts";
import { cancelRun, startRun } from "../runs/run-admission.ts";
import { listSteps } from "../runs/run-records.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export interface RunRoutesOptions {
  pool: pg.Pool;
  store: Pick<AutomationStore, "get">;
  /** A manual run's payload must be one its automation's triggers could deliver. */
  triggers: Pick<TriggerRegistry, "get">;
}

const manualRunSchema = z.strictObject({
  /** What `trigger.payload` holds in the run's templates and conditions; absent, `{}`. */
  payload: z.record(z.string(), z.json()).optional(),
  /** Under `concurrency: context`: the scope the run counts in (e.g. a satellite id); absent, the whole automation. */
  contextKey: z.string().min(1).max(500).optional(),
});

function invalidBody(issues: InputIssue[]): VantageError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  return new VantageError("invalid_input", "invalid_input", `Invalid request body: ${summary}.`, { details: { issues } });
}

/**
 * The payload as the first of the automation's trigger events whose payload schema accepts
 * it would deliver it, or why none does (each issue at its path under `payload`, naming the
 * event when the automation listens to several).
 */
function checkManualPayload(payload: Record<string, unknown>, automation: AutomationView, triggers: RunRoutesOptions["triggers"]): { payload: unknown } | { issues: InputIssue[] } {
  const events = [...new Set(automation.triggers.map((trigger) => trigger.event))];
  const issues: InputIssue[] = [];
  for (const event of events) {
    const parsed = triggers.get(event)?.payloadSchema.safeParse(payload);
    if (parsed?.success) return { payload: parsed.data };
    const found = parsed ? toInputIssues(parsed.error) : [{ path: "", message: "is not registered on this core" }];
    const of = events.length > 1 ? ` (as a payload of ${event})` : "";
    issues.push(...found.map((issue) => ({ path: issue.path ? `payload.${issue.path}` : "payload", message: `${issue.message}${of}` })));
  }
  return { issues };
}

function runNotFound(runId: string): VantageError {
  return new VantageError("not_found", "run_not_found", `No run ${runId} of this automation.`);
}

export function createRunRoutes(options: RunRoutesOptions): Hono {
  const { pool, store } = options;
  const routes = new Hono();

  const findRun = async (automationId: string, runId: string): Promise<RunView> => {
    const { id } = await store.get(automationId);
    const run = isUuid(runId) ? await getRun(pool, id, runId) : null;
    if (!run) throw runNotFound(runId);
    return run;
  };

  routes.get("/:id/runs/:runId", async (c) => {
    const run = await findRun(c.req.param("id"), c.req.param("runId"));
    return c.json({ run, steps: await listSteps(pool, run.id) });
  });

  routes.post("/:id/runs/:runId/cancel", async (c) => {
    const run = await findRun(c.req.param("id"), c.req.param("runId"));
    const cancelled = await withTransaction(pool, (tx) => cancelRun(tx, run.id, "cancelled through the API"));
    if (!cancelled) throw new VantageError("conflict", "run_not_active", `Run ${run.id} is ${run.status}; only a queued, pending or running run can be cancelled.`);
    return c.json({ run: await getRun(pool, run.automationId, run.id) });
  });

  // Conditions are not evaluated (an operator asked for this run); the mode still applies.
  routes.post("/:id/run", async (c) => {
    // No body at all is a run with an empty payload (Hono caches the text for the JSON read).
    const body = (await c.req.text()).trim() === "" ? manualRunSchema.parse({}) : await readJsonBody(c, manualRunSchema);
    const automation = await store.get(c.req.param("id"));
    if (body.contextKey !== undefined && automation.concurrency !== "context") {
      throw invalidBody([{ path: "contextKey", message: "only an automation with concurrency: context has contexts" }]);
    }
    const checked = body.payload === undefined ? { payload: {} } : checkManualPayload(body.payload, automation, options.triggers);
    if ("issues" in checked) throw invalidBody(checked.issues);
    const key: DecisionKey = { automationId: automation.id, automationVersion: automation.version, triggerId: MANUAL_TRIGGER_ID, triggerEvent: MANUAL_TRIGGER_ID, changeId: null };
    const trigger = { event: MANUAL_TRIGGER_ID, triggerId: MANUAL_TRIGGER_ID, payload: checked.payload, forMs: null, change: null };
    const decision = await withTransaction(pool, (tx) => startRun(tx, key, { policy: automation, contextKey: body.contextKey ?? null, trigger, verdicts: [], evenIfDisabled: true }));
    if (decision.outcome === "skip") {
      throw new VantageError("conflict", `run_${decision.reason}`, `The run was not started: ${String(decision.detail.message ?? decision.reason)}.`, { details: decision.detail });
    }
    return c.json({ run: await getRun(pool, automation.id, decision.runId!) }, 202);
  });

  return routes;
}
