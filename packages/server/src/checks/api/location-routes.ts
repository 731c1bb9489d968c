// GET /checks/:id/locations (mounted under /api/v1/checks): where the check runs — the core,
// and each satellite its runOn selects, assigned or skipped with why (an agent without a probe
// for its type, a satellite never connected, the check disabled). And the other way round,
// GET /checks/on-satellite/:satelliteId: the checks a satellite's assignments hold, by the same rule.
import type { SatelliteSelector } from "@vantage/protocol";
import { Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import { describeRoute, pathId } from "../../http/index.ts";
import { checkLocations, type ListedSatellite } from "../assignments/check-locations.ts";
import { type CheckStore, checkNotFound } from "../definitions/check-store.ts";

export interface CheckLocationRoutesOptions {
  store: Pick<CheckStore, "get">;
  /** The registry's pages of satellites, by name (`SatelliteRegistry.list`). */
  satellites: (page: { limit: number; after?: string }) => Promise<ListedSatellite[]>;
  /** One satellite (`SatelliteRegistry.get`; throws satellite_not_found). */
  satellite: (id: string) => Promise<ListedSatellite>;
  pool: Pick<pg.Pool, "query">;
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

const satelliteCheckSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  status: z.enum(["assigned", "skipped"]),
  reason: z.enum(["capability_missing", "never_connected"]).optional().describe("Why the satellite does not run a check its runOn selects"),
  message: z.string().optional(),
});

export const satelliteChecksSchema = z.object({
  checks: z.array(satelliteCheckSchema).describe("Every enabled check whose runOn selects the satellite, by name"),
});

/** The enabled checks that run on satellites, with their selectors (the partial index `checks_on_satellites`). */
const SELECT_CHECKS_ON_SATELLITES = `SELECT id, name, type, run_on_satellites AS selector FROM checks
  WHERE enabled AND run_on_satellites IS NOT NULL ORDER BY name, id`;

interface CheckOnSatellites {
  id: string;
  name: string;
  type: string;
  selector: SatelliteSelector;
}

const satelliteNotFound = (id: string) =>
  new VantageError("not_found", "satellite_not_found", `No satellite has the id ${JSON.stringify(id)}; list them with GET /api/v1/satellites.`);

const docs = {
  locations: describeRoute({
    summary: "Where a check runs",
    description:
      "The core (runOn.core) and every satellite the check's runOn selects, each `assigned` or `skipped` with its reason: `capability_missing` (its agent announces no probe for the check's type), `never_connected`, or `check_disabled`.",
    responses: { 200: { description: "Its locations", schema: checkLocationsSchema } },
    examples: { locations: { summary: "Where does it run?" } },
  }),
  onSatellite: describeRoute({
    summary: "The checks a satellite runs",
    description:
      "Every enabled check whose runOn selects the satellite, by name: `assigned` (in its assignments) or `skipped` with the reason (`capability_missing`: its agent has no probe for the type; `never_connected`). The same rule as GET /checks/{id}/locations, from the satellite's side.",
    params: z.object({ satelliteId: z.string().describe("The satellite's id") }),
    responses: { 200: { description: "Its checks", schema: satelliteChecksSchema } },
    errors: { 404: "No such satellite (`satellite_not_found`)." },
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
  // Reads every check on satellites and applies each selector to this one satellite: a read on
  // demand (a detail screen), not a hot path; the assignments index does the same in memory.
  routes.get("/on-satellite/:satelliteId", docs.onSatellite, async (c) => {
    const satellite = await options.satellite(pathId(c, "satelliteId", satelliteNotFound));
    const { rows } = await options.pool.query<CheckOnSatellites>(SELECT_CHECKS_ON_SATELLITES);
    const checks = rows.flatMap(({ id, name, type, selector }) => {
      const [location] = checkLocations({ type, enabled: true, runOn: { core: false, satellites: selector } }, [satellite]).satellites;
      return location ? [{ id, name, type, status: location.status, reason: location.reason, message: location.message }] : [];
    });
    return c.json({ checks });
  });
  return routes;
}
