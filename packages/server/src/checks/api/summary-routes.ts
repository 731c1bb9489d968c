// GET /checks/status-counts: how many checks are healthy, degraded, unhealthy, unknown.
// GET /checks/summaries?id=…&id=…&range=24h|90d (mounted under /api/v1/checks, before /:id):
// what a list row shows for a page of checks in one request — each check's health state and its
// uptime bar (all locations summed per segment). Two statements whatever the page size: the
// entity's batched read and one uptimeBars read, so a list of 10,000 checks costs a request per
// page it shows, never one per row.
import { Hono } from "hono";
import { z } from "zod";
import { uuidSchema } from "@vantage/protocol";
import type pg from "pg";
import type { EntityHandle } from "../../entities/index.ts";
import { describeRoute, readQuery } from "../../http/index.ts";
import type { CheckHealthState } from "../health/check-health-entity.ts";
import { type ReadOptions, type StatusCounts, uptimeBars } from "../results/reads/check-stats.ts";
import { checkSummariesSchema } from "./check-api-schemas.ts";

/** Checks one summaries request may name: a few screens of a virtualized list. */
export const MAX_SUMMARY_CHECKS = 200;

const HOUR_MS = 3_600_000;

/** Each bar range: its length and segments (whole rollup buckets: 24 hours, 90 days). */
export const BAR_RANGES = {
  "24h": { spanMs: 24 * HOUR_MS, segments: 24, bucketMs: HOUR_MS },
  "90d": { spanMs: 90 * 24 * HOUR_MS, segments: 90, bucketMs: 24 * HOUR_MS },
} as const;

export const summariesQuerySchema = z.strictObject({
  id: z.array(uuidSchema("must be a check id (uuid)")).min(1).max(MAX_SUMMARY_CHECKS),
  range: z.enum(Object.keys(BAR_RANGES) as [keyof typeof BAR_RANGES]).default("24h"),
});

const summariesDoc = describeRoute({
  summary: "Health and uptime bars of a page of checks",
  description: `What a list row shows, for up to ${MAX_SUMMARY_CHECKS} checks in one request (\`id=…&id=…\`): each check's health state (null before its first result), its uptime bar (all locations summed per segment) and each segment's p95 latency — 24 hours or 90 days.`,
  query: summariesQuerySchema,
  responses: { 200: { description: "One summary per check, in the order asked", schema: checkSummariesSchema } },
  // An id no check has answers with empty bars: the example needs no check of its own.
  examples: { day: { summary: "The last 24 hours", query: { id: "0b7c9d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", range: "24h" } } },
});

/** Checks by health status: a check without an evaluated result counts as `unknown`. */
export const checkStatusCountsSchema = z.object({
  total: z.number().int(),
  healthy: z.number().int(),
  degraded: z.number().int(),
  unhealthy: z.number().int(),
  unknown: z.number().int(),
});
export type CheckStatusCounts = z.infer<typeof checkStatusCountsSchema>;

// One pass over the checks beside their health rows: a few ms at 10,000 checks, and what the
// overview asks once per visit (and per health change it is told of), not per row.
const STATUS_COUNTS = `
  SELECT coalesce(h.status, 'unknown') AS status, count(*)::int AS count
  FROM checks c LEFT JOIN check_health h ON h.check_id = c.id
  GROUP BY 1`;

const statusCountsDoc = describeRoute({
  summary: "How many checks are in each health status",
  description: "Counts of checks by health status (`unknown` includes checks without a result yet), for an overview.",
  responses: { 200: { description: "The counts and their total", schema: checkStatusCountsSchema } },
  examples: { counts: { summary: "All checks" } },
});

export interface CheckSummary {
  checkId: string;
  /** Null until the check's first result is evaluated (GET /:id/health then reads `unknown`). */
  health: CheckHealthState | null;
  /** One per segment, oldest first; the last segment is the one still running. */
  bars: StatusCounts[];
  /** Each segment's p95 latency in ms (the list's sparkline); null where it has no result. */
  p95Ms: Array<number | null>;
}

export interface CheckSummaryRoutesOptions extends ReadOptions {
  pool: pg.Pool;
  health: Pick<EntityHandle<CheckHealthState>, "getMany">;
}

export type BarRange = keyof typeof BAR_RANGES;

/** What /checks/summaries answers (and /checks?summaries= carries beside its page). */
export interface CheckSummariesAnswer {
  range: BarRange;
  from: string;
  to: string;
  segmentSeconds: number;
  summaries: CheckSummary[];
}

export type SummaryReader = (checkIds: readonly string[], range: BarRange) => Promise<CheckSummariesAnswer>;

/** Reads a page of checks' summaries: two statements whatever the page size. */
export function createSummaryReader(options: CheckSummaryRoutesOptions): SummaryReader {
  const { pool, health } = options;
  const now = options.now ?? Date.now;
  return async (ids, rangeName) => {
    const checkIds = [...new Set(ids)];
    const range = BAR_RANGES[rangeName];
    // Segments end with the bucket still running, so the newest segment fills as results arrive.
    const to = Math.floor(now() / range.bucketMs) * range.bucketMs + range.bucketMs;
    const [states, bars] = await Promise.all([
      health.getMany(checkIds),
      uptimeBars(pool, checkIds, { from: to - range.spanMs, to, buckets: range.segments }, { now, retention: options.retention }),
    ]);
    const summaries: CheckSummary[] = bars.checks.map(({ checkId, segments, p95Ms }) => ({
      checkId,
      health: states.get(checkId) ?? null,
      bars: segments,
      p95Ms,
    }));
    return { range: rangeName, from: bars.from, to: bars.to, segmentSeconds: bars.segmentSeconds, summaries };
  };
}

export function createCheckSummaryRoutes(options: CheckSummaryRoutesOptions): Hono {
  const { pool } = options;
  const readSummaries = createSummaryReader(options);
  const routes = new Hono();

  routes.get("/status-counts", statusCountsDoc, async (c) => {
    const { rows } = await pool.query<{ status: keyof Omit<CheckStatusCounts, "total">; count: number }>({
      name: "vantage_check_status_counts",
      text: STATUS_COUNTS,
    });
    const counts: CheckStatusCounts = { total: 0, healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
    for (const row of rows) {
      counts[row.status] += row.count;
      counts.total += row.count;
    }
    return c.json(counts);
  });

  routes.get("/summaries", summariesDoc, async (c) => {
    const ids = c.req.queries("id") ?? [];
    const query = readQuery({ ...c.req.query(), id: ids }, summariesQuerySchema);
    return c.json(await readSummaries(query.id, query.range));
  });

  return routes;
}
