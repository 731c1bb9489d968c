// The satellite registry's HTTP routes, mounted at /api/v1/satellites behind the API guard:
// create (the token is shown once), list, read, update, rotate the token, delete.
import { safeText } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { requestActor } from "../../auth/index.ts";
import { z } from "zod";
import { nextCursor, pathId, readJsonBody, readQuery, requestCause } from "../../http/index.ts";
import { DEFAULT_SATELLITE_PAGE, MAX_SATELLITE_PAGE, type SatelliteRegistry, satelliteInputSchemas, satelliteNotFound } from "./registry.ts";

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_SATELLITE_PAGE).default(DEFAULT_SATELLITE_PAGE),
  /** The last name of the previous page. */
  after: safeText().min(1).optional(),
});

/** The satellite that `:id` names, in lower case; a malformed id is an unknown one. */
const satelliteIdOf = (c: Context): string => pathId(c, "id", satelliteNotFound);

export interface SatelliteRoutesOptions {
  registry: SatelliteRegistry;
  /** The heartbeat interval satellites are told: no offline threshold may be shorter. */
  heartbeatIntervalMs: number;
}

export function createSatelliteRoutes(options: SatelliteRoutesOptions): Hono {
  const { registry } = options;
  const schemas = satelliteInputSchemas(options.heartbeatIntervalMs);
  // The change a request records names it as its cause (registry edits keep their own cause type, with the request's id).
  const context = (c: Context) => ({ actor: requestActor(c), cause: requestCause(c) });
  const routes = new Hono();

  routes.post("/", async (c) => {
    const { satellite, token } = await registry.create(await readJsonBody(c, schemas.create));
    return c.json({ ...satellite, token }, 201);
  });

  routes.get("/", async (c) => {
    const page = readQuery(c.req.query(), listQuerySchema);
    const satellites = await registry.list(page);
    return c.json({ satellites, next: nextCursor(satellites, page.limit, (satellite) => satellite.name) });
  });

  routes.get("/:id", async (c) => c.json(await registry.get(satelliteIdOf(c))));

  routes.patch("/:id", async (c) => {
    const id = satelliteIdOf(c);
    const patch = await readJsonBody(c, schemas.update);
    return c.json(await registry.update(id, patch, context(c)));
  });

  routes.post("/:id/rotate-token", async (c) => c.json(await registry.rotateToken(satelliteIdOf(c))));

  routes.delete("/:id", async (c) => {
    await registry.remove(satelliteIdOf(c), context(c));
    return c.body(null, 204);
  });

  return routes;
}
