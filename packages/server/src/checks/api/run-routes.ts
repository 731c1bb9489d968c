// Runs on demand, under /api/v1/checks: `POST /:id/run` runs a stored check once now from a
// location — the core, or a satellite by its id — and answers with its result (also stored,
// like any run), and `POST /test` runs an unsaved definition (JSON or YAML) once and stores
// nothing: "test before save".
import { canonicalUuid, type CheckDefinition, checkDefinitionSchema } from "@vantage/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { VantageError } from "../../errors.ts";
import { describeRoute, pathId, readJsonOrYamlBody, readQuery } from "../../http/index.ts";
import { CORE_LOCATION, type CoreCheckSource, type CoreRuns, type StoredCheck } from "../scheduling/core-runs.ts";
import type { SatelliteRuns } from "../satellite-runs/satellite-runs.ts";
import { checkNotFound } from "../definitions/check-store.ts";
import { exampleCheck, storedRunSchema, trialRunSchema } from "./check-api-schemas.ts";

export interface CheckRunRoutesOptions {
  runs: CoreRuns;
  /** Runs on a satellite, on whichever core holds its socket. */
  satellites: Pick<SatelliteRuns, "runStored" | "runTrial">;
  source: Pick<CoreCheckSource, "find" | "open">;
  /**
   * Reads an unsaved definition as a save would: the schema, then the rules; throws
   * invalid_check. `onCore`: the core runs it, so the private-target rule applies (a satellite
   * may probe its own network).
   */
  validate(body: unknown, where: { onCore: boolean }): CheckDefinition;
}

const runQuerySchema = z.strictObject({
  /** Where to run: `core` (the default) or a satellite's id. */
  location: z.string().min(1).max(200).optional().describe("Where to run: `core` (the default) or a satellite's id."),
});

const RUN_ERRORS = {
  404: "No such check, or no such satellite (`check_not_found`, `satellite_not_found`).",
  409: "The satellite cannot run it (offline, or the stored check cannot be opened).",
  503: "The core stopped during the run (`core_stopping`); run it again.",
  504: "The satellite did not answer in time.",
};

const docs = {
  test: describeRoute({
    summary: "Test an unsaved check",
    description: "Runs the definition once, now, and stores nothing: test before save.",
    query: runQuerySchema,
    body: checkDefinitionSchema,
    yaml: true,
    responses: { 200: { description: "The run's result (`status` says how the target did)", schema: trialRunSchema } },
    errors: RUN_ERRORS,
    examples: { http: { summary: "Does it pass?", body: exampleCheck } },
  }),
  run: describeRoute({
    summary: "Run a check now",
    description: "Runs the stored check once from the core or a satellite; the result is stored like any run.",
    query: runQuerySchema,
    responses: { 200: { description: "The stored result", schema: storedRunSchema } },
    errors: RUN_ERRORS,
    examples: { core: { summary: "From the core", query: { location: "core" } } },
  }),
};

type Location = { core: true } | { satelliteId: string };

/** `core`, or a satellite's id (any case); anything else names no satellite: 404, as an unknown id. */
function locationOf(query: Record<string, string>): Location {
  const { location = CORE_LOCATION } = readQuery(query, runQuerySchema);
  if (location === CORE_LOCATION) return { core: true };
  const satelliteId = canonicalUuid(location);
  if (satelliteId) return { satelliteId };
  throw new VantageError(
    "not_found",
    "satellite_not_found",
    `No location is called ${JSON.stringify(location)}: pass location=${CORE_LOCATION} or a satellite's id (GET /api/v1/satellites lists them).`,
  );
}

/** A core run ends with a result unless the core stops under it. */
export function stopping(): VantageError {
  return new VantageError("transient", "core_stopping", "The core stopped during the run; run it again.");
}

/** A satellite needs the stored definition opened (it sends the credential headers); one that cannot be is the operator's to fix. */
async function opened(source: CheckRunRoutesOptions["source"], check: StoredCheck): Promise<CheckDefinition> {
  try {
    return await source.open(check);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new VantageError(
      "conflict",
      "secret_undecryptable",
      `The stored check cannot be opened to send it to the satellite (${why}); enter its credential headers again.`,
      { cause: error },
    );
  }
}

export function createCheckRunRoutes(options: CheckRunRoutesOptions): Hono {
  const { runs, source, satellites } = options;
  const routes = new Hono();

  routes.post("/test", docs.test, async (c) => {
    const location = locationOf(c.req.query());
    const definition = options.validate(await readJsonOrYamlBody(c, z.unknown()), { onCore: "core" in location });
    if ("satelliteId" in location)
      return c.json({ result: { location: location.satelliteId, ...(await satellites.runTrial(location.satelliteId, definition)) } });
    const result = await runs.runTrial(definition);
    if (!result) throw stopping();
    return c.json({ result: { location: CORE_LOCATION, ...result } });
  });

  routes.post("/:id/run", docs.run, async (c) => {
    const location = locationOf(c.req.query());
    const id = pathId(c, "id", checkNotFound);
    const check = await source.find(id);
    if (!check) throw checkNotFound(id);
    if ("satelliteId" in location) return c.json({ result: await satellites.runStored(location.satelliteId, check, await opened(source, check)) });
    const result = await runs.runStored(check);
    if (!result) throw stopping();
    return c.json({ result });
  });

  return routes;
}
