// /api/v1/tokens (admins only, by the access policy): create a named API token (its secret
// shown once), list them, revoke one. A token's role is never above its creator's.
import { apiTokenSchema, createApiTokenRequestSchema, roleAtLeast } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { invalidInput, VantageError } from "../../errors.ts";
import { describeRoute, pathId, readJsonBody, type RouteDoc } from "../../http/index.ts";
import { principalOf } from "../principal.ts";
import { apiTokenNotFound, type ApiTokenStore } from "./api-token-store.ts";

const tokenIdOf = (c: Context) => pathId(c, "id", apiTokenNotFound);

const createdTokenSchema = apiTokenSchema.extend({
  token: z.string().describe("The token (`vtk_…`): shown this once, stored only as its hash. Send it as `Authorization: Bearer <token>`."),
});

// Wrapped by describeRoute when the routes are built, not at load (the http ⇄ auth import cycle: see auth-routes.ts).
const docs = {
  list: {
    summary: "List API tokens",
    description: "Every token, newest first, without its secret (admins only).",
    responses: { 200: { description: "The tokens", schema: z.object({ tokens: z.array(apiTokenSchema) }) } },
    examples: { all: { summary: "Every token" } },
  },
  create: {
    summary: "Create an API token",
    description: "Answers the token's secret, once. Its role is never above its creator's, and stays capped by its owner's role later on.",
    body: createApiTokenRequestSchema,
    responses: { 201: { description: "Created", schema: createdTokenSchema } },
    errors: { 403: "The role is above the caller's (`role_above_own`)." },
    examples: { ci: { summary: "A token for a deploy pipeline", body: { name: "ci-deploy", role: "editor" } } },
  },
  revoke: {
    summary: "Revoke an API token",
    description: "The token stops working at once, on every core.",
    responses: { 204: { description: "Revoked" } },
    examples: { revoke: { summary: "Revoke the token" } },
  },
} satisfies Record<string, RouteDoc>;

export function createApiTokenRoutes(tokens: ApiTokenStore, now: () => number): Hono {
  const routes = new Hono();

  routes.get("/", describeRoute(docs.list), async (c) => c.json({ tokens: await tokens.list() }));

  routes.post("/", describeRoute(docs.create), async (c) => {
    const request = await readJsonBody(c, createApiTokenRequestSchema);
    const creator = principalOf(c);
    if (!roleAtLeast(creator.role, request.role)) {
      throw new VantageError("forbidden", "role_above_own", `A ${creator.role} may not create a token with the ${request.role} role.`);
    }
    if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= now()) {
      throw invalidInput([{ path: "expiresAt", message: "must be in the future" }]);
    }
    const created = await tokens.create({ ...request, userId: creator.userId, createdBy: creator.actor });
    return c.json(created, 201);
  });

  routes.delete("/:id", describeRoute(docs.revoke), async (c) => {
    await tokens.revoke(tokenIdOf(c));
    return c.body(null, 204);
  });

  return routes;
}
