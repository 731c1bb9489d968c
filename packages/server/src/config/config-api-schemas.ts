// The answers of the config-as-code API as zod schemas, for the OpenAPI document; each is held
// to the TypeScript type the service returns, so the two cannot drift apart.
import { actorSchema, bundleResourceSchema, causeSchema, type ConfigPlan, PLAN_ACTIONS, RESOURCE_KINDS, runOutcomeSchema } from "@vantage/protocol";
import { z } from "zod";
import type { BundleTrial } from "./bundle-trial.ts";
import type { ApplyResult } from "./config-service.ts";
import type { ConfigHistoryEntry, ResourceOwner } from "./ownership-store.ts";

const fieldChangeSchema = z.object({
  path: z.string().describe("The changed field's dotted path."),
  before: z.unknown().optional().describe("Absent: not set; secrets show as `<secret>`."),
  after: z.unknown().optional(),
});

export const configPlanSchema = z.object({
  bundle: z.string(),
  fingerprint: z.string().describe("Over the state the plan read: an apply given it is refused when that state moved."),
  hasChanges: z.boolean().describe("Whether an apply would write anything."),
  changes: z.array(
    z.object({
      kind: z.enum(RESOURCE_KINDS),
      name: z.string(),
      action: z.enum(PLAN_ACTIONS),
      id: z.string().optional().describe("The stored resource (absent for a create)."),
      previousName: z.string().optional().describe("Renamed from."),
      drift: z.boolean().describe("Edited outside the bundle since its last apply: the apply overwrites it."),
      adopt: z.boolean().describe("Exists but no bundle owns it yet: the apply takes it over."),
      changes: z.array(fieldChangeSchema),
    }),
  ),
});

export const applyResultSchema = z.object({
  applyId: z.string(),
  plan: configPlanSchema,
  satellites: z
    .array(z.object({ name: z.string(), id: z.string(), token: z.string() }))
    .describe("Satellites the apply created, with their tokens: shown this once, stored only as hashes."),
  heartbeatChecks: z
    .array(z.object({ name: z.string(), id: z.string(), pingToken: z.string(), pingUrl: z.string() }))
    .describe("Heartbeat checks the apply created, with their ping tokens and URLs (relative to the core): shown this once, stored only as hashes."),
});

export const bundleTrialSchema = z.object({
  plan: configPlanSchema.describe("What an apply would do: the bundle is valid."),
  checks: z.array(
    z.object({
      name: z.string(),
      location: z.string().describe("`core`, or the satellite's name."),
      outcome: runOutcomeSchema.optional().describe("The run's outcome (nothing stored)."),
      skipped: z.string().optional().describe("Why it was not run (a heartbeat check waits for pings)."),
      error: z.string().optional().describe("Why the location could not run it (a satellite offline or not answering in time)."),
    }),
  ),
  passed: z.boolean().describe("Every check that ran came back `up`, and none failed to run."),
});

export const configOwnersSchema = z.object({
  owners: z.array(
    z.object({
      kind: z.enum(RESOURCE_KINDS),
      id: z.string(),
      bundle: z.string().describe("The bundle that manages it."),
      name: z.string().describe("The name it was last applied under."),
      appliedAt: z.string(),
    }),
  ),
});

export const configExportSchema = z.object({ resources: z.array(bundleResourceSchema) });

export const configHistorySchema = z.object({
  changes: z.array(
    z.object({
      applyId: z.string(),
      bundle: z.string(),
      kind: z.string(),
      name: z.string().describe("The resource's name in that apply."),
      resourceId: z.string(),
      action: z.string(),
      changedPaths: z.array(z.string()),
      actor: actorSchema,
      cause: causeSchema,
      occurredAt: z.string(),
    }),
  ),
});

// Compile-time only: each schema describes exactly what the service answers.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exact = <T extends true>(_proof?: T): void => undefined;
exact<Same<z.infer<typeof configPlanSchema>, ConfigPlan>>();
exact<Same<z.infer<typeof applyResultSchema>, ApplyResult>>();
exact<Same<z.infer<typeof bundleTrialSchema>, BundleTrial>>();
exact<Same<z.infer<typeof configOwnersSchema>["owners"][number], ResourceOwner>>();
exact<Same<z.infer<typeof configHistorySchema>["changes"][number], ConfigHistoryEntry>>();
