// GET /checks/:id/health (mounted under /api/v1/checks): the check-health entity's state, or,
// for a check with no evaluated result yet, `unknown` since the check was created.
import { type Context, Hono } from "hono";
import type { EntityHandle } from "../../entities/index.ts";
import { describeRoute, pathId } from "../../http/index.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";
import { type CheckHealthState, checkHealthStateSchema, targetOf } from "./check-health-entity.ts";

export interface CheckHealthRoutesOptions {
  store: Pick<CheckStore, "get">;
  health: Pick<EntityHandle<CheckHealthState>, "get">;
}

export function createCheckHealthRoutes(options: CheckHealthRoutesOptions): Hono {
  const routes = new Hono();
  const checkIdOf = (c: Context): string => pathId(c, "id", checkNotFound);

  routes.get(
    "/:id/health",
    describeRoute({
      summary: "A check's health",
      description: "The check-health entity: healthy, degraded, unhealthy or unknown, since when, why, and each location's status.",
      responses: { 200: { description: "Its health (`unknown` before its first result)", schema: checkHealthStateSchema } },
      examples: { health: { summary: "How is it?" } },
    }),
    async (c) => {
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
    },
  );

  return routes;
}
