// GET /checks/:id/locations (mounted under /api/v1/checks): where the check runs — the core,
// and each satellite its runOn selects, assigned or skipped with why (an agent without a probe
// for its type, a satellite never connected, the check disabled).
import { Hono } from "hono";
import { z } from "zod";
import { describeRoute, pathId } from "../../http/index.ts";
import { checkLocations, type ListedSatellite } from "../assignments/check-locations.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";

export interface CheckLocationRoutesOptions {
  store: Pick<CheckStore, "get">;
  /** The registry's pages of satellites, by name (`SatelliteRegistry.list`). */
  satellites: (page: { limit: number; after?: string }) => Promise<ListedSatellite[]>;
  /** Satellites read per page while looking for the selected ones (default 1,000). */
  pageSize?: number;
}

const satelliteLocationSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  status: z.enum(["assigned", "skipped"]),
  reason: z.enum(["check_disabled", "capability_missing", "never_connected"]).optional().describe("Why a selected satellite does not run the check"),
  message: z.string().optional(),
  version: z.string().nullable().describe("Its agent's version, from its last hello (null: never connected)"),
  capabilities: z.array(z.string()).describe("What its last hello announced: the probe types it runs, and protocol features"),
});

export const checkLocationsSchema = z.object({
  core: z.boolean().describe("The core location runs the check"),
  satellites: z.array(satelliteLocationSchema).describe("Every satellite the check's runOn selects, by name"),
});

const docs = {
  locations: describeRoute({
    summary: "Where a check runs",
    description:
      "The core (runOn.core) and every satellite the check's runOn selects, each `assigned` or `skipped` with its reason: `capability_missing` (its agent announces no probe for the check's type), `never_connected`, or `check_disabled`.",
    responses: { 200: { description: "Its locations", schema: checkLocationsSchema } },
    examples: { locations: { summary: "Where does it run?" } },
  }),
};

export function createCheckLocationRoutes(options: CheckLocationRoutesOptions): Hono {
  const routes = new Hono();
  const size = options.pageSize ?? 1_000;
  routes.get("/:id/locations", docs.locations, async (c) => {
    const check = await options.store.get(pathId(c, "id", checkNotFound));
    const fleet: ListedSatellite[] = [];
    // The rule is applied to the whole fleet (a read on demand, not a hot path): the same rule the assignments use.
    if ("runOn" in check && check.runOn.satellites) {
      for (let page = await options.satellites({ limit: size }); ; page = await options.satellites({ limit: size, after: page.at(-1)!.name })) {
        fleet.push(...page);
        if (page.length < size) break;
      }
    }
    return c.json(checkLocations({ type: check.type, enabled: check.enabled, runOn: "runOn" in check ? check.runOn : undefined }, fleet));
  });
  return routes;
}
