// The shapes of the replay API (POST /automations/replay, GET /automations/replay/:id): the
// request, validated at the edge, and the job with its result, documented in the OpenAPI.
import { uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { SKIP_REASONS } from "../runs/automation-runs.ts";
import { REPLAY_STATUSES } from "../replay/replay-jobs.ts";
import { exampleAutomation } from "./automation-api-schemas.ts";

/** The longest range one replay reads. */
export const MAX_REPLAY_DAYS = 31;

const instant = z.iso.datetime({ offset: true }).describe("An ISO 8601 instant");

export const replayRequestSchema = z
  .strictObject({
    definition: z
      .union([z.record(z.string(), z.unknown()), z.string()])
      .optional()
      .describe("An unsaved definition: an object (what POST /automations takes) or its YAML text."),
    automationId: uuidSchema("must be an automation's id").optional().describe("A saved automation to replay instead of a definition."),
    from: instant.describe("Start of the range (inclusive)."),
    to: instant.optional().describe("End of the range (exclusive); default now."),
  })
  .refine((body) => (body.definition === undefined) !== (body.automationId === undefined), {
    message: "give either definition or automationId, not both",
    path: ["definition"],
  });
export type ReplayRequestBody = z.infer<typeof replayRequestSchema>;

const verdicts = z.array(z.object({ path: z.string(), passed: z.boolean() }));
const decision = {
  at: z.string().describe("When it was decided on the virtual clock."),
  trigger: z.object({ id: z.string(), event: z.string() }),
  changeId: z.string().describe("The recorded change that fired the trigger (for a `for:` trigger, the one that started its timer)."),
  entity: z.object({ kind: z.string(), id: z.string() }),
  verdicts,
};
const stepSchema = z.object({ path: z.string(), kind: z.string(), at: z.string(), input: z.unknown(), output: z.unknown().optional() });

export const replayResultSchema = z.object({
  from: z.string(),
  to: z.string(),
  changes: z.number().describe("Changes of the kinds the definition listens to, read in the range."),
  runs: z.number(),
  skips: z.number(),
  skipsByReason: z.partialRecord(z.enum(SKIP_REASONS), z.number()),
  days: z.array(z.object({ day: z.string(), runs: z.number(), skips: z.number() })).describe("Runs and skips per UTC day."),
  listedRuns: z.array(
    z.object({
      id: z.string(),
      ...decision,
      status: z.enum(["succeeded", "failed", "waiting", "cancelled", "queued"]),
      contextKey: z.string().nullable(),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      error: z.string().optional(),
      stopReason: z.string().nullable().optional(),
      steps: z.array(stepSchema).describe("The actions it would have taken, inputs rendered and secrets masked; none was executed."),
    }),
  ),
  listedSkips: z.array(z.object({ ...decision, reason: z.enum(SKIP_REASONS), detail: z.record(z.string(), z.unknown()) })),
  truncated: z.boolean().describe("More runs or skips were counted than listed."),
  pendingTimers: z.number().describe("`for:` timers still counting at the end of the range."),
  gaps: z
    .array(z.object({ from: z.string(), to: z.string(), reason: z.enum(["before_retention", "not_yet_recorded"]) }))
    .describe("Parts of the range no recorded history covers."),
});

export const replayJobSchema = z.object({
  id: z.string(),
  status: z.enum(REPLAY_STATUSES),
  progress: z.number().describe("0…1"),
  changes: z.number(),
  request: z.object({ from: z.string(), to: z.string(), automationId: z.string().nullable(), name: z.string() }),
  result: replayResultSchema.nullable().describe("Once succeeded."),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const exampleReplay = { definition: exampleAutomation, from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z" };
