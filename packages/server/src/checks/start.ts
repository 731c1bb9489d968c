// Starts the checks module in a core: the definitions store, the results side (batched ingest,
// the rollup worker and the partition maintainer), the core location (its scheduler serves once
// the core does) and the checks API, all under one /checks mount. Satellite assignments join here.
import { Hono } from "hono";
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import { createCheckRoutes } from "./api/check-routes.ts";
import { createCheckResultRoutes } from "./api/result-routes.ts";
import { CheckStore } from "./definitions/check-store.ts";
import { type CheckResults, type CheckResultsOptions, startCheckResults } from "./results/start-check-results.ts";
import { type CoreLocationOptions, coreRunProbe, createCoreLocation } from "./scheduling/core-location.ts";
import { storeCheckSource } from "./scheduling/check-source.ts";
import { validateCheck } from "./definitions/validate-check.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export type ChecksOptions = Pick<CheckResultsOptions, "ingest" | "rollupIntervalMs" | "maintenanceIntervalMs" | "takeoverIntervalMs"> & {
  /** The core location's scheduler: concurrency, claim batch, look-ahead, longest sleep. */
  scheduling?: CoreLocationOptions["scheduling"];
};

export interface ChecksModule extends CoreModule {
  /** The definitions: rows by id, definitions opened for the probes; every write NOTIFYs vantage_checks. */
  store: CheckStore;
  /** Results: the ingest batcher every socket and scheduler submits to, rollups, retention. */
  results: CheckResults;
  /** Starts the core location's scheduler; it stops (dropping its runs in flight) before the results. */
  serve(): Promise<void>;
}

export async function startChecks(deps: ModuleDeps, options: ChecksOptions = {}): Promise<ChecksModule> {
  const { config, pool } = deps;
  const { scheduling, ...resultsOptions } = options;
  const retention = {
    rawDays: config.resultRetentionRawDays,
    rollup1mDays: config.resultRetention1mDays,
    rollup1hDays: config.resultRetention1hDays,
    rollup1dDays: config.resultRetention1dDays,
  };
  // Started with the module (its duties only take locks and write rollups), stopped through
  // the stop stack: after the gateway, so the results of closing sockets are still written.
  const results = startCheckResults({ pool, logger: deps.logger, registry: deps.metrics, now: deps.now, retention, ...resultsOptions });
  deps.onStop("check results", results.stop);
  const store = new CheckStore({ pool, box: deps.box });
  const allowPrivateTargets = config.allowPrivateTargets ?? false;
  // The core location: every core runs its share of the core checks, into the results ingest.
  const coreLocation = createCoreLocation({
    pool,
    hub: deps.hub,
    logger: deps.logger,
    registry: deps.metrics,
    instanceId: deps.instanceId,
    now: deps.now,
    runProbe: coreRunProbe(deps.now, { allowPrivateTargets }),
    source: storeCheckSource(store),
    ingest: results.ingest,
    validate: (body) => validateCheck(body, null, { allowPrivateTargets }),
    scheduling,
  });
  const routes = new Hono()
    .route("/", createCheckRoutes({ store, allowPrivateTargets }))
    .route("/", createCheckResultRoutes({ pool, now: deps.now, retention: results.retention }))
    .route("/", coreLocation.routes);
  return {
    routes: { "/checks": routes },
    store,
    results,
    async serve() {
      await coreLocation.start();
      deps.onStop("core location", coreLocation.stop);
    },
  };
}
