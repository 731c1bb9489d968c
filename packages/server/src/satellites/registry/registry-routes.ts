// The satellite registry's HTTP routes, mounted at /api/v1/satellites behind the API guard:
// create (the token is shown once), list, read, update, rotate the token, delete.
import { safeText } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { requestActor } from "../../auth/index.ts";
import { z } from "zod";
import { describeRoute, nextCursor, pathId, readJsonBody, readQuery, requestCause } from "../../http/index.ts";
import {
  DEFAULT_SATELLITE_PAGE,
  MAX_SATELLITE_PAGE,
  type SatelliteRegistry,
  satelliteInputSchemas,
  satelliteNotFound,
  satelliteViewSchema,
} from "./registry.ts";

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_SATELLITE_PAGE).default(DEFAULT_SATELLITE_PAGE),
  /** The last name of the previous page. */
  after: safeText().min(1).optional().describe("The `next` of the previous page (the last name on it)."),
});

const createdSchema = satelliteViewSchema.extend({ token: z.string().describe("The satellite's token (`vsat_…`): shown this once, stored only as its hash.") });
const tokenSchema = z.object({ id: z.string(), token: z.string().describe("The new token, shown this once; the old one stops working at once.") });
const pageSchema = z.object({
  satellites: z.array(satelliteViewSchema),
  next: z.string().nullable().describe("The `after` of the next page; null on the last."),
});
const exampleSatellite = { name: "edge-fra-1", region: "eu-central", tags: ["edge", "k8s"] };

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

  routes.post(
    "/",
    describeRoute({
      summary: "Register a satellite",
      description: "Answers its id and its token, once: start the satellite with both.",
      body: schemas.create,
      responses: { 201: { description: "Registered", schema: createdSchema } },
      errors: { 409: "The name is taken (`satellite_name_taken`)." },
      examples: { create: { summary: "A satellite in Frankfurt", body: exampleSatellite } },
    }),
    async (c) => {
      const { satellite, token } = await registry.create(await readJsonBody(c, schemas.create));
      return c.json({ ...satellite, token }, 201);
    },
  );

  routes.get(
    "/",
    describeRoute({
      summary: "List satellites",
      description: "By name, in keyset pages.",
      query: listQuerySchema,
      responses: { 200: { description: "A page", schema: pageSchema } },
      examples: { first: { summary: "The first page", query: { limit: "20" } } },
    }),
    async (c) => {
      const page = readQuery(c.req.query(), listQuerySchema);
      const satellites = await registry.list(page);
      return c.json({ satellites, next: nextCursor(satellites, page.limit, (satellite) => satellite.name) });
    },
  );

  routes.get(
    "/:id",
    describeRoute({
      summary: "Read a satellite",
      responses: { 200: { description: "The satellite", schema: satelliteViewSchema } },
      examples: { read: { summary: "One satellite" } },
    }),
    async (c) => c.json(await registry.get(satelliteIdOf(c))),
  );

  routes.patch(
    "/:id",
    describeRoute({
      summary: "Update a satellite",
      description: "Only the fields given change; `offlineThresholdMs: null` restores the default.",
      body: schemas.update,
      responses: { 200: { description: "The satellite as it is now", schema: satelliteViewSchema } },
      errors: { 409: "The name is taken (`satellite_name_taken`)." },
      examples: { retag: { summary: "New tags and a longer threshold", body: { tags: ["edge"], offlineThresholdMs: 60000 } } },
    }),
    async (c) => {
      const id = satelliteIdOf(c);
      const patch = await readJsonBody(c, schemas.update);
      return c.json(await registry.update(id, patch, context(c)));
    },
  );

  routes.post(
    "/:id/rotate-token",
    describeRoute({
      summary: "Rotate a satellite's token",
      description: "The connected satellite is cut off at once; restart it with the new token.",
      responses: { 200: { description: "The new token", schema: tokenSchema } },
      examples: { rotate: { summary: "A new token" } },
    }),
    async (c) => c.json(await registry.rotateToken(satelliteIdOf(c))),
  );

  routes.delete(
    "/:id",
    describeRoute({
      summary: "Delete a satellite",
      description: "Its socket is closed at once.",
      responses: { 204: { description: "Deleted" } },
      examples: { remove: { summary: "Delete it" } },
    }),
    async (c) => {
      await registry.remove(satelliteIdOf(c), context(c));
      return c.body(null, 204);
    },
  );

  return routes;
}
