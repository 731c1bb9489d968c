// The triggers the check-health entity offers automations. Their ids are exactly what its
// change deriver emits; all carry the same payload, keyed by check (`concurrency: context`).
// While a check flaps or is in maintenance, its status events are silenced: each listening
// automation records a skip (`flapping`, `maintenance`) and flapping_started/stopped speak.
import { z } from "zod";
import { defineTrigger, type SuppressionReason } from "../../automations/index.ts";
import {
  CHECK_DEGRADED_EVENT,
  CHECK_FLAPPING_STARTED_EVENT,
  CHECK_FLAPPING_STOPPED_EVENT,
  CHECK_HEALTH_CHANGED_EVENT,
  CHECK_RECOVERED_EVENT,
  CHECK_UNHEALTHY_EVENT,
  CHECK_UNKNOWN_EVENT,
  checkHealthStatusSchema,
  locationHealthSchema,
} from "./check-health-entity.ts";

export const checkHealthPayloadSchema = z.object({
  checkId: z.string(),
  name: z.string(),
  type: z.string(),
  target: z.string(),
  labels: z.record(z.string(), z.string()),
  status: checkHealthStatusSchema,
  /** `unknown` for a check's first state. */
  previousStatus: checkHealthStatusSchema,
  reason: z.string(),
  locations: z.record(z.string(), locationHealthSchema),
  /** ISO time the status began. */
  since: z.string(),
  flapping: z.boolean(),
  maintenance: z.boolean(),
});
export type CheckHealthTriggerPayload = z.infer<typeof checkHealthPayloadSchema>;

const byCheck = (payload: CheckHealthTriggerPayload) => payload.checkId;

/** Maintenance first (a window silences everything), then flapping. */
const silenced = (payload: CheckHealthTriggerPayload): SuppressionReason | null => (payload.maintenance ? "maintenance" : payload.flapping ? "flapping" : null);
const whileStatus = (status: string) => (state: Readonly<Record<string, unknown>>) => state.status === status;

export const checkUnhealthyTrigger = defineTrigger({
  id: CHECK_UNHEALTHY_EVENT,
  displayName: "Check unhealthy",
  description:
    "Enough observable locations see the check failing for its policy (any, all, a quorum or a percentage). Locations that cannot observe never count.",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: whileStatus("unhealthy"),
  suppressed: silenced,
});

export const checkDegradedTrigger = defineTrigger({
  id: CHECK_DEGRADED_EVENT,
  displayName: "Check degraded",
  description: "A partial outage (failing locations below the policy), degraded results, or too few observable locations for the quorum (quorum_unavailable).",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: whileStatus("degraded"),
  suppressed: silenced,
});

export const checkRecoveredTrigger = defineTrigger({
  id: CHECK_RECOVERED_EVENT,
  displayName: "Check recovered",
  description: "The check left unhealthy (for healthy or degraded). unknown → healthy is not a recovery.",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: (state) => state.status === "healthy" || state.status === "degraded",
  suppressed: silenced,
});

export const checkUnknownTrigger = defineTrigger({
  id: CHECK_UNKNOWN_EVENT,
  displayName: "Check unknown",
  description: "No location can observe the check (satellites offline, results stale). Not downtime; never a page by itself.",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: whileStatus("unknown"),
});

export const checkHealthChangedTrigger = defineTrigger({
  id: CHECK_HEALTH_CHANGED_EVENT,
  displayName: "Check health changed",
  description: "The check's status changed, whatever from and to (a new check coming up healthy does not fire).",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  suppressed: silenced,
});

export const checkFlappingStartedTrigger = defineTrigger({
  id: CHECK_FLAPPING_STARTED_EVENT,
  displayName: "Check flapping started",
  description: "30 % of the check's last 20 evaluations changed its status. Its status events are recorded as skips (flapping) until it stops.",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: (state) => state.flapping === true,
});

export const checkFlappingStoppedTrigger = defineTrigger({
  id: CHECK_FLAPPING_STOPPED_EVENT,
  displayName: "Check flapping stopped",
  description: "At most 15 % of the check's last 20 evaluations changed its status; its status events fire again. The payload's status is where it settled.",
  payloadSchema: checkHealthPayloadSchema,
  contextKey: byCheck,
  stillMatches: (state) => state.flapping === false,
});

export const checkHealthTriggers = [
  checkUnhealthyTrigger,
  checkDegradedTrigger,
  checkRecoveredTrigger,
  checkUnknownTrigger,
  checkHealthChangedTrigger,
  checkFlappingStartedTrigger,
  checkFlappingStoppedTrigger,
] as const;
