// Starts the checks module in a core: the results side (batched ingest, the rollup worker and
// the partition maintainer), satellite assignments (attached to the satellites' gateway, with
// their results going to the ingest) and the checks API. The definitions and the core
// location's scheduler join here as they land.
import { checkDefinitionSchema } from "@vantage/protocol";
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import type { SatellitesModule } from "../satellites/index.ts";
import { createCheckResultRoutes } from "./api/result-routes.ts";
import { createSatelliteAssignments, type SatelliteAssignments } from "./assignments/satellite-assignments.ts";
import type { OpenDefinition } from "./assignments/satellite-check-index.ts";
import { createSatelliteResultSink } from "./assignments/satellite-result-sink.ts";
import { type CheckResults, type CheckResultsOptions, startCheckResults } from "./results/start-check-results.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export type ChecksOptions = Pick<CheckResultsOptions, "ingest" | "rollupIntervalMs" | "maintenanceIntervalMs" | "takeoverIntervalMs"> & {
  /** Opens a stored definition's sealed fields for satellites (default: stored definitions read as they are). */
  openDefinition?: OpenDefinition;
};

/** The modules checks are started after. */
export interface ChecksDeps {
  /** Satellites: their current region and tags, and the gateway checks are attached to. */
  satellites: Pick<SatellitesModule, "registry" | "attachChecks">;
}

export interface ChecksModule extends CoreModule {
  /** Results: the ingest batcher every socket and scheduler submits to, rollups, retention. */
  results: CheckResults;
  /** What each satellite connected here runs, pushed as checks and satellites change. */
  assignments: SatelliteAssignments;
}

/**
 * Until the definitions store supplies `openDefinition` (credential headers sealed at rest,
 * opened for satellites): a stored definition as it is. One whose headers are sealed fails to
 * parse, is logged, and is assigned to no satellite — never sent sealed.
 */
const storedDefinition: OpenDefinition = (row) => checkDefinitionSchema.parse(row.definition);

export async function startChecks(deps: ModuleDeps, { satellites }: ChecksDeps, options: ChecksOptions = {}): Promise<ChecksModule> {
  const { config } = deps;
  const retention = {
    rawDays: config.resultRetentionRawDays,
    rollup1mDays: config.resultRetention1mDays,
    rollup1hDays: config.resultRetention1hDays,
    rollup1dDays: config.resultRetention1dDays,
  };
  // Started with the module (its duties only take locks and write rollups), stopped through
  // the stop stack: after the gateway, so the results of closing sockets are still written.
  const { openDefinition = storedDefinition, ...resultsOptions } = options;
  const results = startCheckResults({ pool: deps.pool, logger: deps.logger, registry: deps.metrics, now: deps.now, retention, ...resultsOptions });
  deps.onStop("check results", results.stop);

  // Loaded before the gateway serves; stopped after it (and before the ingest is flushed).
  const assignments = createSatelliteAssignments({
    pool: deps.pool,
    hub: deps.hub,
    logger: deps.logger,
    registry: deps.metrics,
    profiles: (ids) => satellites.registry.profiles(ids),
    openDefinition,
  });
  await assignments.start();
  deps.onStop("satellite assignments", assignments.stop);
  satellites.attachChecks({
    assignmentsFor: assignments.assignmentsFor,
    sessionObserver: assignments.sessionObserver,
    // Acknowledged once the batch holding it committed.
    resultSink: createSatelliteResultSink((result) => results.ingest.submit(result)),
  });

  return {
    routes: { "/checks": createCheckResultRoutes({ pool: deps.pool, now: deps.now, retention: results.retention }) },
    results,
    assignments,
  };
}
