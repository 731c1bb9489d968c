// Runs on demand, under /api/v1/checks: `POST /:id/run` runs a stored check once now from the
// core and answers with its result (also stored, like any run), and `POST /test` runs an unsaved
// definition (JSON or YAML) once and stores nothing: "test before save".
import type { CheckDefinition } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import { pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { CORE_LOCATION, type CoreCheckSource, type CoreRuns } from "../scheduling/core-runs.ts";
import { checkNotFound } from "../definitions/check-store.ts";

export interface CheckRunRoutesOptions {
  runs: CoreRuns;
  source: Pick<CoreCheckSource, "find">;
  /** Reads an unsaved definition as a save would: the schema, then the rules (private targets); throws invalid_check. */
  validate(body: unknown): CheckDefinition;
}

const runQuerySchema = z.strictObject({
  /** Where to run: only `core` so far (a satellite's id later). */
  location: z.string().min(1).max(200).optional(),
});

/** Satellites cannot be asked for a run yet: that needs a core → satellite frame. */
function requireCoreLocation(query: Record<string, string>): void {
  const { location = CORE_LOCATION } = readQuery(query, runQuerySchema);
  if (location === CORE_LOCATION) return;
  throw new VantageError("invalid_input", "location_not_supported", `Only the core location can run on demand yet: leave out ?location, or pass location=${CORE_LOCATION}.`, {
    details: { issues: [{ path: "location", message: `only "${CORE_LOCATION}" is supported` }] },
  });
}

/** A run ends with a result unless the core stops under it. */
function stopping(): VantageError {
  return new VantageError("transient", "core_stopping", "The core stopped during the run; run it again.");
}

export function createCheckRunRoutes(options: CheckRunRoutesOptions): Hono {
  const { runs, source } = options;
  const routes = new Hono();

  routes.post("/test", async (c) => {
    requireCoreLocation(c.req.query());
    const definition = options.validate(await readJsonOrYamlBody(c, z.unknown()));
    const result = await runs.runTrial(definition);
    if (!result) throw stopping();
    return c.json({ result: { location: CORE_LOCATION, ...result } });
  });

  routes.post("/:id/run", async (c) => {
    requireCoreLocation(c.req.query());
    const id = pathId(c, "id", checkNotFound);
    const check = await source.find(id);
    if (!check) throw checkNotFound(id);
    const result = await runs.runStored(check);
    if (!result) throw stopping();
    return c.json({ result });
  });

  return routes;
}
