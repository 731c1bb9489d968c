// GET /api/v1/triggers: every registered trigger with its payload's JSON Schema, so editors
// know which events exist and which paths `trigger.payload.…` may read.
import { Hono } from "hono";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export function createTriggerRoutes(options: { triggers: TriggerRegistry }): Hono {
  const routes = new Hono();
  routes.get("/", (c) => c.json({ triggers: options.triggers.list() }));
  return routes;
}
