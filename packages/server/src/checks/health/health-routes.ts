// GET /checks/:id/health (mounted under /api/v1/checks): the check-health entity's state, or,
// for a check with no evaluated result yet, `unknown` since the check was created; and
// GET /checks/:id/incidents, the periods it spent unhealthy (or degraded), from its history.
import { type Context, Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import type { EntityHandle } from "../../entities/index.ts";
import { describeRoute, pathId, readQuery } from "../../http/index.ts";
import { VantageError } from "../../errors.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";
import type { ResultRetention } from "../results/check-result.ts";
import { checkUptimeSchema, incidentPageSchema } from "../api/check-api-schemas.ts";
import { type CheckHealthState, checkHealthStateSchema, targetOf } from "./check-health-entity.ts";
import { checkUptime } from "./check-uptime.ts";
import { DEFAULT_INCIDENT_PAGE, INCIDENT_SEVERITIES, listIncidents, MAX_INCIDENT_PAGE } from "./check-incidents.ts";

export interface CheckHealthRoutesOptions {
  pool: pg.Pool;
  store: Pick<CheckStore, "get">;
  health: Pick<EntityHandle<CheckHealthState>, "get">;
  /** The clock, in epoch ms (an open incident's duration so far, the default uptime range). */
  now: () => number;
  /** Which rollup levels are still kept (reachability reads them). */
  retention?: ResultRetention;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const uptimeQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export const incidentsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_INCIDENT_PAGE).default(DEFAULT_INCIDENT_PAGE),
  /** The nextCursor of the previous page. */
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,17}$/, "is not a cursor this list gave: pass nextCursor of the previous page as it is")
    .optional(),
  /** unhealthy (default), degraded, or both comma-separated. */
  severity: z
    .string()
    .transform((value) => value.split(",").map((severity) => severity.trim()))
    .pipe(z.array(z.enum(INCIDENT_SEVERITIES)).min(1))
    .default(["unhealthy"]),
});

const docs = {
  health: describeRoute({
    summary: "A check's health",
    description: "The check-health entity: healthy, degraded, unhealthy or unknown, since when, why, and each location's status.",
    responses: { 200: { description: "Its health (`unknown` before its first result)", schema: checkHealthStateSchema } },
    examples: { health: { summary: "How is it?" } },
  }),
  incidents: describeRoute({
    summary: "A check's incidents",
    description: "The periods it spent unhealthy (or, asked for, degraded), newest first, in keyset pages.",
    query: incidentsQuerySchema,
    responses: { 200: { description: "A page", schema: incidentPageSchema } },
    examples: { both: { summary: "Unhealthy and degraded periods", query: { severity: "unhealthy,degraded", limit: "20" } } },
  }),
  uptime: describeRoute({
    summary: "A check's uptime and reachability",
    description:
      "Over [from, to) (default: the last 24 hours), overall and per location: uptime time-weighted from its health (maintenance and unknown time count for neither), reachability from its results.",
    query: uptimeQuerySchema,
    responses: { 200: { description: "Uptime, time per status and reachability", schema: checkUptimeSchema } },
    errors: { 400: "The query is invalid, or `from` is not before `to` (`invalid_range`)." },
    examples: { day: { summary: "The last 24 hours" } },
  }),
};

export function createCheckHealthRoutes(options: CheckHealthRoutesOptions): Hono {
  const routes = new Hono();
  const checkIdOf = (c: Context): string => pathId(c, "id", checkNotFound);

  routes.get("/:id/health", docs.health, async (c) => {
    const id = checkIdOf(c);
    const state = await options.health.get(id);
    if (state) return c.json(state);
    // Not evaluated yet (no result stored): say so, after making sure the check exists (404).
    const check = await options.store.get(id);
    const fields = check as unknown as { url?: string; host?: string; port?: number; queryName?: string };
    const unknown: CheckHealthState = {
      status: "unknown",
      since: check.createdAt,
      reason: "no results yet",
      locations: {},
      flapping: false,
      maintenance: false,
      name: check.name,
      type: check.type,
      target: targetOf(fields),
      labels: check.labels,
    };
    return c.json(unknown);
  });

  routes.get("/:id/incidents", docs.incidents, async (c) => {
    const id = checkIdOf(c);
    const query = readQuery(c.req.query(), incidentsQuerySchema);
    await options.store.get(id); // 404 for no check
    return c.json(await listIncidents(options.pool, id, { limit: query.limit, severities: query.severity, cursor: query.cursor }, options.now()));
  });

  // Without a range: the last 24 hours.
  routes.get("/:id/uptime", docs.uptime, async (c) => {
    const id = checkIdOf(c);
    const query = readQuery(c.req.query(), uptimeQuerySchema);
    const to = query.to ? Date.parse(query.to) : options.now();
    const from = query.from ? Date.parse(query.from) : to - DAY_MS;
    if (from >= to) throw new VantageError("invalid_input", "invalid_range", "from must be before to.");
    await options.store.get(id); // 404 for no check
    return c.json(await checkUptime(options.pool, id, { from, to }, { now: options.now, retention: options.retention }));
  });

  return routes;
}
