// The runs of one automation over HTTP, under /api/v1/automations/:id: a run's trace (its
// trigger, condition verdicts and every step), cancelling an active run, and starting a run
// by hand. A manual run is only recorded and enqueued here; a worker executes it.
import { type ErrorCode, type Issue, issueAt, validateInput } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { invalidInput, VantageError } from "../../errors.ts";
import { describeRoute, readJsonBody } from "../../http/index.ts";
import { withTransaction } from "../../storage/index.ts";
import { type DecisionKey, getRun, MANUAL_TRIGGER_ID, type RunView, type SkipReason } from "../runs/automation-runs.ts";
import type { AutomationStore, AutomationView } from "../definitions/automation-store.ts";
import { automationIdOf, runIdOf, runNotFound } from "./path-ids.ts";
import { cancelRun, startRun } from "../runs/run-admission.ts";
import { listSteps } from "../runs/run-records.ts";
import { changesOfRun } from "../runs/change-links.ts";
import { runChangeSchema, runViewSchema, stepViewSchema } from "./automation-api-schemas.ts";
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

/** Changes shown with a trace; the history API pages through the rest. */
const RUN_CHANGES_SHOWN = 100;

const docs = {
  trace: describeRoute({
    summary: "A run's trace",
    description:
      "The run (its trigger, with the change that fired it; the condition verdicts), every step with its input, output, error and timing, " +
      `and the entity changes its steps made (newest ${RUN_CHANGES_SHOWN}; all, in pages: \`GET /api/v1/changes/caused-by/automation-run/{runId}\`).`,
    responses: {
      200: {
        description: "The run, its steps and what they changed",
        schema: z.object({
          run: runViewSchema,
          steps: z.array(stepViewSchema),
          changes: z.array(runChangeSchema).describe("The entity changes the run's steps made (their cause is this run), newest first."),
        }),
      },
    },
    examples: { trace: { summary: "What did it do?" } },
  }),
  cancel: describeRoute({
    summary: "Cancel a run",
    responses: { 200: { description: "The run, cancelled", schema: z.object({ run: runViewSchema }) } },
    errors: { 409: "The run has already ended (`run_not_active`)." },
    examples: { cancel: { summary: "Stop it" } },
  }),
  run: describeRoute({
    summary: "Run an automation by hand",
    description: "Conditions are not evaluated (an operator asked for it); its mode still applies. The run is queued for a worker.",
    body: manualRunSchema,
    bodyOptional: true,
    responses: { 202: { description: "The run, recorded and enqueued", schema: z.object({ run: runViewSchema }) } },
    errors: { 409: "Its mode refused the run (`run_busy`, `run_max_runs`)." },
    examples: {
      manual: { summary: "Now, with an empty payload", body: {} },
    },
  }),
};

/**
 * The payload as the first of the automation's trigger events whose payload schema accepts
 * it would deliver it, or why none does (each issue at its path under `payload`, naming the
 * event when the automation listens to several).
 */
function checkManualPayload(
  payload: Record<string, unknown>,
  automation: AutomationView,
  triggers: RunRoutesOptions["triggers"],
): { payload: unknown } | { issues: Issue[] } {
  const events = [...new Set(automation.triggers.map((trigger) => trigger.event))];
  const issues: Issue[] = [];
  for (const event of events) {
    const schema = triggers.get(event)?.payloadSchema;
    const parsed = schema ? validateInput(schema, payload, { root: "payload" }) : undefined;
    if (parsed?.ok) return { payload: parsed.value };
    const found = parsed ? parsed.issues : [issueAt([], `cannot be checked: the trigger event ${event} is not registered on this core`, { root: "payload" })];
    const of = events.length > 1 ? ` (as a payload of ${event})` : "";
    issues.push(...found.map((issue) => ({ path: issue.path ? `payload.${issue.path}` : "payload", message: `${issue.message}${of}` })));
  }
  return { issues };
}

/** The codes of a manual run its automation's mode refused: the only skips a manual run meets (it ignores enabled and conditions). */
const REFUSED_RUN_CODES: Partial<Record<SkipReason, ErrorCode>> = { busy: "run_busy", max_runs: "run_max_runs" };

export function createRunRoutes(options: RunRoutesOptions): Hono {
  const { pool, store } = options;
  const routes = new Hono();

  const findRun = async (c: Context): Promise<RunView> => {
    // The automation first: under an unknown automation, every run is unknown too.
    const { id } = await store.get(automationIdOf(c));
    const runId = runIdOf(c);
    const run = await getRun(pool, id, runId);
    if (!run) throw runNotFound(runId);
    return run;
  };

  routes.get("/:id/runs/:runId", docs.trace, async (c) => {
    const run = await findRun(c);
    const [steps, changes] = await Promise.all([listSteps(pool, run.id), changesOfRun(pool, run.id, RUN_CHANGES_SHOWN)]);
    return c.json({ run, steps, changes });
  });

  routes.post("/:id/runs/:runId/cancel", docs.cancel, async (c) => {
    const run = await findRun(c);
    const cancelled = await withTransaction(pool, (tx) => cancelRun(tx, run.id, "cancelled through the API"));
    if (!cancelled)
      throw new VantageError("conflict", "run_not_active", `Run ${run.id} is ${run.status}; only a queued, pending or running run can be cancelled.`);
    return c.json({ run: await getRun(pool, run.automationId, run.id) });
  });

  // Conditions are not evaluated (an operator asked for this run); the mode still applies.
  routes.post("/:id/run", docs.run, async (c) => {
    const automationId = automationIdOf(c);
    // No body at all is a run with an empty payload (Hono caches the text for the JSON read).
    const body = (await c.req.text()).trim() === "" ? manualRunSchema.parse({}) : await readJsonBody(c, manualRunSchema);
    const automation = await store.get(automationId);
    if (body.contextKey !== undefined && automation.concurrency !== "context") {
      throw invalidInput([{ path: "contextKey", message: "only an automation with concurrency: context has contexts" }]);
    }
    const checked = body.payload === undefined ? { payload: {} } : checkManualPayload(body.payload, automation, options.triggers);
    if ("issues" in checked) throw invalidInput(checked.issues);
    const key: DecisionKey = {
      automationId: automation.id,
      automationVersion: automation.version,
      triggerId: MANUAL_TRIGGER_ID,
      triggerEvent: MANUAL_TRIGGER_ID,
      changeId: null,
    };
    const trigger = { event: MANUAL_TRIGGER_ID, triggerId: MANUAL_TRIGGER_ID, payload: checked.payload, forMs: null, change: null };
    const decision = await withTransaction(pool, (tx) =>
      startRun(tx, key, { policy: automation, contextKey: body.contextKey ?? null, trigger, verdicts: [], evenIfDisabled: true }),
    );
    if (decision.outcome === "skip") {
      throw new VantageError(
        "conflict",
        REFUSED_RUN_CODES[decision.reason] ?? "run_not_started",
        `The run was not started: ${String(decision.detail.message ?? decision.reason)}.`,
        { details: decision.detail },
      );
    }
    return c.json({ run: await getRun(pool, automation.id, decision.runId!) }, 202);
  });

  return routes;
}
