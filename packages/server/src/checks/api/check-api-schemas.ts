// What the checks API answers, as schemas for its OpenAPI description (the request side is
// described by the schemas the routes read with). The examples test checks real answers against them.
import type { checkDefinitionSchema } from "@vantage/protocol";
import { checkResultDetailSchema, checkRunStatusSchema, checkViewSchema, heartbeatCheckSchema, pingTokenResponseSchema } from "@vantage/protocol";
import { z } from "zod";
import { checkHealthStateSchema, checkHealthStatusSchema } from "../health/check-health-entity.ts";
import { INCIDENT_SEVERITIES } from "../health/check-incidents.ts";
import { CHECK_RESULT_STATUSES } from "../results/check-result.ts";

/** What POST and PUT /checks read: a probe check's definition or a heartbeat check's (validateAnyCheck). */
export { anyCheckDefinitionSchema } from "@vantage/protocol";

// The health summary reads add beside the definition (check-view.ts); absent where the write did not read it.
const healthSummaryShape = {
  status: checkHealthStatusSchema.optional(),
  statusSince: z.string().optional(),
  statusReason: z.string().optional(),
};

/** The health summary alone (the web client's types read it). */
export const checkHealthSummarySchema = z.object(healthSummaryShape);

const probeCheckViews = checkViewSchema.options.map((view) => view.extend(healthSummaryShape));
const viewOnlyShape = probeCheckViews[0]!.pick({ id: true, revision: true, createdAt: true, updatedAt: true }).shape;
const heartbeatViewSchema = heartbeatCheckSchema.extend({ ...viewOnlyShape, ...healthSummaryShape });

/** A check as the API answers it: a probe check's view or a heartbeat check's, with its health summary. */
export const checkAnswerSchema = z.union([...probeCheckViews, heartbeatViewSchema]);

/** POST /checks: a heartbeat check comes with its ping token, shown this once. */
export const createdCheckSchema = z.union([...probeCheckViews, heartbeatViewSchema.extend(pingTokenResponseSchema.shape)]);

export const storedResultSchema = z.object({
  resultId: z.string(),
  checkId: z.string(),
  location: z.string().describe('"core" or a satellite\'s id.'),
  startedAt: z.string(),
  durationMs: z.number(),
  status: z.enum(CHECK_RESULT_STATUSES),
  statusCode: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  detail: checkResultDetailSchema,
});

export const resultPageSchema = z.object({
  results: z.array(storedResultSchema),
  next: z.string().nullable().describe("The `cursor` of the next page; null on the last."),
});

const percentiles = { p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() };
const counts = { total: z.number().int(), up: z.number().int(), degraded: z.number().int(), down: z.number().int(), error: z.number().int() };

export const checkStatsSchema = z.object({
  checkId: z.string(),
  from: z.string(),
  to: z.string(),
  level: z.enum(["1m", "1h", "1d"]).describe("The rollup level the series is read from."),
  stepSeconds: z.number().int(),
  locations: z.array(
    z.object({
      location: z.string(),
      counts: z.object(counts),
      availability: z.number().nullable().describe("(up + degraded) / (total − error); null without data."),
      latency: z.object({ ...percentiles, minMs: z.number().nullable(), maxMs: z.number().nullable(), meanMs: z.number().nullable() }),
      series: z.array(z.object({ at: z.string(), ...counts, ...percentiles, meanMs: z.number().nullable() })),
    }),
  ),
});

const runResult = { location: z.string(), startedAt: z.string(), durationMs: z.number(), status: checkRunStatusSchema, detail: checkResultDetailSchema };

/** A stored check's run: the result as stored. */
export const storedRunSchema = z.object({ result: z.looseObject({ resultId: z.string(), checkId: z.string(), ...runResult }) });

/** An unsaved definition's trial run: nothing stored. */
export const trialRunSchema = z.object({ result: z.object(runResult) });

/** An example check for the reference and the examples test; a short timeout, since it may not answer. */
export const exampleCheck = {
  name: "Homepage",
  type: "http",
  url: "https://example.com/",
  intervalSeconds: 60,
  timeoutMs: 2000,
  labels: { team: "web" },
  assertions: [{ subject: "status", op: "lt", value: 400 }],
} satisfies z.input<typeof checkDefinitionSchema>;

const statusCountsSchema = z.object(counts);

/** GET /checks/summaries: each check's health state (null before its first result) and uptime bar. */
export const checkSummariesSchema = z.object({
  range: z.enum(["24h", "90d"]),
  from: z.string(),
  to: z.string(),
  segmentSeconds: z.number(),
  summaries: z.array(
    z.object({
      checkId: z.string(),
      health: checkHealthStateSchema.nullable(),
      bars: z.array(statusCountsSchema).describe("One per segment, oldest first; the last is the one still running."),
      p95Ms: z.array(z.number().nullable()).describe("Each segment's p95 latency in ms (all locations), null where it has no result: the list's sparkline."),
    }),
  ),
});

export const checkPageSchema = z.object({
  checks: z.array(checkAnswerSchema),
  nextCursor: z.string().nullable().describe("The `cursor` of the next page; null on the last."),
  summaries: checkSummariesSchema.optional().describe("With `summaries=`: the page's checks' health and uptime bars, in the page's order."),
});

export const incidentPageSchema = z.object({
  incidents: z.array(
    z.object({
      id: z.string().describe("The recorded change that opened it (stable)."),
      severity: z.enum(INCIDENT_SEVERITIES),
      start: z.string(),
      end: z.string().nullable().describe("Null while it lasts."),
      durationMs: z.number().describe("Until the end, or until now while it lasts."),
      reason: z.string(),
      locations: z.record(z.string(), z.string()).describe("The locations failing (or degraded) when it opened, with their status."),
    }),
  ),
  nextCursor: z.string().nullable().describe("The `cursor` of the next (older) page; null on the last."),
});

const ms = z.number();
export const checkUptimeSchema = z.object({
  checkId: z.string(),
  from: z.string(),
  to: z.string(),
  uptime: z.number().nullable().describe("(healthy + degraded) ÷ (healthy + degraded + unhealthy), outside maintenance; null when never observed."),
  durations: z.object({ healthyMs: ms, degradedMs: ms, unhealthyMs: ms, unknownMs: ms, maintenanceMs: ms }),
  reachability: z.number().nullable().describe("Successes ÷ observable results (probe errors excluded); null without results."),
  locations: z.record(
    z.string(),
    z.object({
      uptime: z.number().nullable(),
      durations: z.object({ healthyMs: ms, degradedMs: ms, unhealthyMs: ms, unobservableMs: ms }),
      reachability: z.number().nullable(),
      counts: statusCountsSchema,
    }),
  ),
});

/** An example heartbeat check: created with its ping token. */
export const exampleHeartbeatCheck = {
  name: "Nightly backup",
  type: "heartbeat",
  periodSeconds: 86_400,
  graceSeconds: 3_600,
  labels: { team: "ops" },
} satisfies z.input<typeof heartbeatCheckSchema>;
