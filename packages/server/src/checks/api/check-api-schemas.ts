// What the checks API answers, as schemas for its OpenAPI description (the request side is
// described by the schemas the routes read with). The examples test checks real answers against them.
import { type checkDefinitionSchema, checkResultDetailSchema, checkRunStatusSchema, checkViewSchema } from "@vantage/protocol";
import { z } from "zod";
import { CHECK_RESULT_STATUSES } from "../results/check-result.ts";

export const checkPageSchema = z.object({
  checks: z.array(checkViewSchema),
  nextCursor: z.string().nullable().describe("The `cursor` of the next page; null on the last."),
});

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
