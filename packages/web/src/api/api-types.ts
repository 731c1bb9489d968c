// What the API answers about checks and automations, derived from the core's own answer schemas
// (the ones its OpenAPI document is generated from and the examples test holds real answers to):
// no field is copied by hand, so a field renamed or added in the core changes the UI's type, and
// `npm run typecheck` shows every place that must follow. Type-only imports: the bundle gets none
// of the server's code.
import type { AutomationDefinition, CheckDefinition } from "@vantage/protocol";
import type { z } from "zod";
import type {
  automationListItemSchema,
  automationViewSchema,
  runChangeSchema,
  runViewSchema,
  skipViewSchema,
  stepViewSchema,
  triggerListSchema,
} from "../../../server/src/automations/api/automation-api-schemas.ts";
import type {
  checkAnswerSchema,
  checkHealthSummarySchema,
  checkStatsSchema,
  checkSummariesSchema,
  storedResultSchema,
  trialRunSchema,
} from "../../../server/src/checks/api/check-api-schemas.ts";
import type { checkStatusCountsSchema } from "../../../server/src/checks/api/summary-routes.ts";
import type { checkHealthStateSchema } from "../../../server/src/checks/health/check-health-entity.ts";

type Answer<Schema extends z.ZodType> = z.output<Schema>;

// Automations
/** The definition's own type (its conditions are recursive, which a schema's inferred type cannot spell) and the view's fields. */
export type Automation = AutomationDefinition & Omit<Answer<typeof automationViewSchema>, keyof AutomationDefinition>;
/** An automation as the list answers it: with its newest run (null before the first). */
export type AutomationListItem = Automation & Pick<Answer<typeof automationListItemSchema>, "lastRun">;
export type Run = Answer<typeof runViewSchema>;
export type RunStatus = Run["status"];
export type Verdict = Run["verdicts"][number];
/** An entity change a run's step made (GET …/runs/:runId lists them). */
export type RunChange = Answer<typeof runChangeSchema>;
export type Skip = Answer<typeof skipViewSchema>;
export type Step = Answer<typeof stepViewSchema>;
/** An event automations can trigger on, with its payload's JSON Schema. */
export type TriggerInfo = Answer<typeof triggerListSchema>["triggers"][number];

// Checks
/** A check as the API answers it: a probe check's view or a heartbeat check's, with its health summary. */
export type CheckAnswer = Answer<typeof checkAnswerSchema>;
/**
 * A probed check as the core shows it, with its health summary. (Heartbeat checks are listed
 * too, but the UI does not edit them yet.) The answer schema builds its views per check type at
 * run time, which loses their static types, so the definition comes from the definition schema.
 */
export type Check = { id: string } & CheckDefinition & { revision: number; createdAt: string; updatedAt: string } & Partial<CheckHealthSummary>;
/** The health the checks list and a check's read carry beside its definition. */
export type CheckHealthSummary = Required<Answer<typeof checkHealthSummarySchema>>;
/** The check-health entity's state (GET /checks/:id/health). */
export type CheckHealth = Answer<typeof checkHealthStateSchema>;
export type CheckHealthStatus = CheckHealth["status"];
export type LocationHealthStatus = CheckHealth["locations"][string]["status"];
/** GET /checks/status-counts. */
export type CheckStatusCounts = Answer<typeof checkStatusCountsSchema>;
/** GET /checks/summaries. */
export type CheckSummaries = Answer<typeof checkSummariesSchema>;
export type BarRange = CheckSummaries["range"];
export type StatusCounts = CheckSummaries["summaries"][number]["bars"][number];
export type CheckStats = Answer<typeof checkStatsSchema>;
export type Percentiles = Pick<CheckStats["locations"][number]["latency"], "p50" | "p95" | "p99">;
export type StoredResult = Answer<typeof storedResultSchema>;
/** One run on demand (POST /checks/test, POST /checks/:id/run). */
export type ProbeResult = Answer<typeof trialRunSchema>["result"];
