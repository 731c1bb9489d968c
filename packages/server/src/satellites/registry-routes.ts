// The satellite registry's HTTP routes, mounted at /api/v1/satellites behind the admin guard:
// create (the token is shown once), list, read, update, rotate the token, delete.
import { Hono } from "hono";
import { ADMIN_ACTOR } from "../auth/index.ts";
import { readJsonBody } from "../http/request-body.ts";
import { type SatelliteRegistry, satelliteInputSchemas } from "./registry.ts";

export interface SatelliteRoutesOptions {
  registry: SatelliteRegistry;
  /** The heartbeat interval satellites are told: no offline threshold may be shorter. */
  heartbeatIntervalMs: number;
}

export function createSatelliteRoutes(options: SatelliteRoutesOptions): Hono {
  const { registry } = options;
  const schemas = satelliteInputSchemas(options.heartbeatIntervalMs);
  const context = { actor: ADMIN_ACTOR };
  const routes = new Hono();

  routes.post("/", async (c) => {
    const { satellite, token } = await registry.create(await readJsonBody(c, schemas.create));
    return c.json({ ...satellite, token }, 201);
  });

  routes.get("/", async (c) => c.json({ satellites: await registry.list() }));

  routes.get("/:id", async (c) => c.json(await registry.get(c.req.param("id"))));

  routes.patch("/:id", async (c) => {
    const patch = await readJsonBody(c, schemas.update);
    return c.json(await registry.update(c.req.param("id"), patch, context));
  });

  routes.post("/:id/rotate-token", async (c) => c.json(await registry.rotateToken(c.req.param("id"))));

  routes.delete("/:id", async (c) => {
    await registry.remove(c.req.param("id"), context);
    return c.body(null, 204);
  });

  return routes;
}
