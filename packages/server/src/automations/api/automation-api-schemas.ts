// What the automations API answers, as schemas for its OpenAPI description (requests are
// described by the schemas the routes read with). The examples test checks real answers against them.
import { automationDefinitionSchema, type AutomationDefinitionInput } from "@vantage/protocol";
import { z } from "zod";
import { RUN_STATUSES, SKIP_REASONS } from "../runs/automation-runs.ts";
import { STEP_STATUSES } from "../runs/run-records.ts";

export const automationViewSchema = automationDefinitionSchema.extend({
  id: z.string(),
  version: z.number().int().describe("Goes up by one with every change; a PUT that carries an older one is refused."),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** An automation as the list shows it: with its newest run. */
export const automationListItemSchema = automationViewSchema.extend({
  lastRun: z
    .object({ id: z.string(), status: z.enum(RUN_STATUSES), createdAt: z.string(), finishedAt: z.string().nullable() })
    .nullable()
    .describe("Its newest run (null: none recorded, or pruned by retention)."),
});

const issueSchema = z.object({ path: z.string(), message: z.string() });

export const validationSchema = z.object({
  valid: z.boolean(),
  errors: z.array(issueSchema).describe("Each problem at its path; empty when valid."),
  events: z.array(z.string()).optional().describe("The trigger events the automation listens to, when valid."),
});

const verdicts = z.array(z.object({ path: z.string(), passed: z.boolean() })).describe("The trigger filter's and each top-level condition's verdict.");
const decisionKey = {
  automationId: z.string(),
  automationVersion: z.number().int(),
  triggerId: z.string(),
  triggerEvent: z.string(),
  changeId: z.string().nullable(),
};

export const runViewSchema = z.object({
  id: z.string(),
  ...decisionKey,
  contextKey: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  trigger: z.object({
    event: z.string(),
    triggerId: z.string(),
    payload: z.unknown(),
    forMs: z.number().nullable(),
    change: z.object({ changeId: z.string(), seq: z.number().int(), kind: z.string(), id: z.string(), occurredAt: z.string() }).nullable(),
  }),
  verdicts,
  error: z.string().nullable(),
  stopReason: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

/** A change a run's step made, in brief: the whole change (prev, next, actor) is one history read away. */
export const runChangeSchema = z.object({
  seq: z.number().int(),
  changeId: z.string(),
  kind: z.string(),
  id: z.string().describe("The entity's id."),
  changedFields: z.array(z.string()),
  occurredAt: z.string(),
});

export const stepViewSchema = z.object({
  path: z.string().describe("Where the step sits in the definition, e.g. `actions.0`."),
  kind: z.string(),
  status: z.enum(STEP_STATUSES),
  input: z.json().nullable(),
  output: z.json().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  dueAt: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const skipViewSchema = z.object({
  id: z.string(),
  ...decisionKey,
  reason: z.enum(SKIP_REASONS),
  detail: z.record(z.string(), z.unknown()),
  verdicts,
  createdAt: z.string(),
});

export const triggerListSchema = z.object({
  triggers: z.array(
    z.object({
      id: z.string(),
      displayName: z.string(),
      description: z.string(),
      payloadSchema: z.record(z.string(), z.unknown()).describe("JSON Schema of `trigger.payload`."),
    }),
  ),
});

/** An example automation for the reference and the examples test: it notifies the channel of the channels example. */
export const exampleAutomation = {
  name: "Page on unhealthy checks",
  triggers: [{ event: "check.unhealthy", for: "2m" }],
  actions: [{ notify: { channel: "ops-webhook", title: "{{ trigger.payload.name }} is unhealthy", message: "{{ trigger.payload.reason }}" } }],
  mode: "single",
} satisfies AutomationDefinitionInput;
