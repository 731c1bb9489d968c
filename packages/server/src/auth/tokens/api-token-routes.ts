// /api/v1/tokens (admins only, by the access policy): create a named API token (its secret
// shown once), list them, revoke one. A token's role is never above its creator's.
import { createApiTokenRequestSchema, roleAtLeast } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { invalidInput, VantageError } from "../../errors.ts";
import { pathId, readJsonBody } from "../../http/index.ts";
import { principalOf } from "../principal.ts";
import { apiTokenNotFound, type ApiTokenStore } from "./api-token-store.ts";

const tokenIdOf = (c: Context) => pathId(c, "id", apiTokenNotFound);

export function createApiTokenRoutes(tokens: ApiTokenStore, now: () => number): Hono {
  const routes = new Hono();

  routes.get("/", async (c) => c.json({ tokens: await tokens.list() }));

  routes.post("/", async (c) => {
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

  routes.delete("/:id", async (c) => {
    await tokens.revoke(tokenIdOf(c));
    return c.body(null, 204);
  });

  return routes;
}
