// GET /api/v1/triggers: every registered trigger with its payload's JSON Schema, so editors
// know which events exist and which paths `trigger.payload.…` may read.
import { Hono } from "hono";
import { describeRoute } from "../../http/index.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";
import { triggerListSchema } from "./automation-api-schemas.ts";

const doc = describeRoute({
  summary: "List trigger events",
  description: "Every event automations can trigger on, with its payload's JSON Schema (what `trigger.payload.…` may read).",
  responses: { 200: { description: "The events, sorted by id", schema: triggerListSchema } },
  examples: { all: { summary: "Every event" } },
});

export function createTriggerRoutes(options: { triggers: TriggerRegistry }): Hono {
  const routes = new Hono();
  routes.get("/", doc, (c) => c.json({ triggers: options.triggers.list() }));
  return routes;
}
