// HTTP routes over a check's results, to mount at /api/v1/checks behind the API guard:
// GET /:id/results (keyset pages, newest first) and GET /:id/stats?from&to (from the rollups).
import { type Context, Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import { describeRoute, pathId, readQuery } from "../../http/index.ts";
import { checkNotFound } from "../definitions/check-store.ts";
import { CHECK_RESULT_STATUSES, type ResultRetention } from "../results/check-result.ts";
import { checkStats } from "../results/reads/check-stats.ts";
import { listResults, MAX_RESULT_PAGE } from "../results/reads/list-results.ts";
import { checkStatsSchema, resultPageSchema } from "./check-api-schemas.ts";

export const DEFAULT_RESULT_PAGE = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

const resultsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_RESULT_PAGE).default(DEFAULT_RESULT_PAGE),
  /** The `next` of the previous page. */
  cursor: z.string().min(1).max(200).optional().describe("The `next` of the previous page."),
  location: z.string().min(1).max(64).optional().describe('"core" or a satellite\'s id.'),
  /** One status or several, comma-separated: `down,error` lists recent failures. */
  status: z
    .string()
    .transform((value) => value.split(",").map((status) => status.trim()))
    .pipe(z.array(z.enum(CHECK_RESULT_STATUSES)).min(1))
    .optional()
    .describe("One status or several, comma-separated: `down,error` lists recent failures."),
});

const statsQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

const docs = {
  results: describeRoute({
    summary: "A check's results",
    description: "Newest first, in keyset pages; raw results are kept for the raw retention (VANTAGE_RESULT_RETENTION_DAYS).",
    query: resultsQuerySchema,
    responses: { 200: { description: "A page", schema: resultPageSchema } },
    examples: { failures: { summary: "Recent failures", query: { status: "down,error", limit: "20" } } },
  }),
  stats: describeRoute({
    summary: "A check's statistics",
    description: "Counts, availability, latency percentiles and a series per location, from the rollups; the last 24 hours without a range.",
    query: statsQuerySchema,
    responses: { 200: { description: "Statistics", schema: checkStatsSchema } },
    errors: { 400: "The query is invalid, or `from` is not before `to` (`invalid_range`)." },
    examples: { day: { summary: "The last 24 hours" } },
  }),
};

export interface CheckResultRoutesOptions {
  pool: pg.Pool;
  /** The clock, in epoch ms (the default range and which rollup levels are still kept). */
  now?: () => number;
  retention?: ResultRetention;
}

export function createCheckResultRoutes(options: CheckResultRoutesOptions): Hono {
  const { pool } = options;
  const now = options.now ?? Date.now;
  const routes = new Hono();

  const checkIdOf = (c: Context): string => pathId(c, "id", checkNotFound);

  routes.get("/:id/results", docs.results, async (c) => {
    const query = readQuery(c.req.query(), resultsQuerySchema);
    return c.json(await listResults(pool, checkIdOf(c), query));
  });

  // Without a range: the last 24 hours.
  routes.get("/:id/stats", docs.stats, async (c) => {
    const query = readQuery(c.req.query(), statsQuerySchema);
    const to = query.to ? Date.parse(query.to) : now();
    const from = query.from ? Date.parse(query.from) : to - DAY_MS;
    if (from >= to) throw new VantageError("invalid_input", "invalid_range", "from must be before to.");
    return c.json(await checkStats(pool, checkIdOf(c), { from, to }, { now, retention: options.retention }));
  });

  return routes;
}
