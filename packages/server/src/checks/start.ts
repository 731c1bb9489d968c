// Starts the checks module in a core: the definitions store, the results side (batched ingest,
// the rollup worker and the partition maintainer) and the checks API, definitions and results
// under one /checks mount. The core location's scheduler and satellite assignments join here.
import { Hono } from "hono";
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import { createCheckRoutes } from "./api/check-routes.ts";
import { createCheckResultRoutes } from "./api/result-routes.ts";
import { CheckStore } from "./definitions/check-store.ts";
import { type CheckResults, type CheckResultsOptions, startCheckResults } from "./results/start-check-results.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export type ChecksOptions = Pick<CheckResultsOptions, "ingest" | "rollupIntervalMs" | "maintenanceIntervalMs" | "takeoverIntervalMs">;

export interface ChecksModule extends CoreModule {
  /** The definitions: rows by id, definitions opened for the probes; every write NOTIFYs vantage_checks. */
  store: CheckStore;
  /** Results: the ingest batcher every socket and scheduler submits to, rollups, retention. */
  results: CheckResults;
}

export async function startChecks(deps: ModuleDeps, options: ChecksOptions = {}): Promise<ChecksModule> {
  const { config } = deps;
  const retention = {
    rawDays: config.resultRetentionRawDays,
    rollup1mDays: config.resultRetention1mDays,
    rollup1hDays: config.resultRetention1hDays,
    rollup1dDays: config.resultRetention1dDays,
  };
  // Started with the module (its duties only take locks and write rollups), stopped through
  // the stop stack: after the gateway, so the results of closing sockets are still written.
  const results = startCheckResults({ pool: deps.pool, logger: deps.logger, registry: deps.metrics, now: deps.now, retention, ...options });
  deps.onStop("check results", results.stop);
  const store = new CheckStore({ pool: deps.pool, box: deps.box });
  const routes = new Hono()
    .route("/", createCheckRoutes({ store, allowPrivateTargets: config.allowPrivateTargets ?? false }))
    .route("/", createCheckResultRoutes({ pool: deps.pool, now: deps.now, retention: results.retention }));
  return { routes: { "/checks": routes }, store, results };
}
