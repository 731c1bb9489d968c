// Starts the checks module in a core: the definitions store, the results side (batched ingest,
// the rollup worker and the partition maintainer), satellite assignments (attached to the
// satellites' gateway, their results going to the ingest), runs on demand on satellites (across
// cores), the core location (its scheduler serves once the core does), check health (evaluated
// in every ingest batch), maintenance windows (their API and the duty that starts and ends
// them) and the checks API, all under one /checks mount (windows under /maintenance-windows).
import type { CheckDefinition, RunOutcome } from "@vantage/protocol";
import { Hono } from "hono";
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import type { SatellitesModule } from "../satellites/index.ts";
import { createCheckRoutes } from "./api/check-routes.ts";
import { createCheckLocationRoutes } from "./api/location-routes.ts";
import { createCheckResultRoutes } from "./api/result-routes.ts";
import { createCheckRunRoutes, stopping as stoppingDuringRun } from "./api/run-routes.ts";
import { createCheckSummaryRoutes, createSummaryReader } from "./api/summary-routes.ts";
import { createSatelliteAssignments, type SatelliteAssignments } from "./assignments/satellite-assignments.ts";
import { createSatelliteResultSink } from "./assignments/satellite-result-sink.ts";
import { CheckStore } from "./definitions/check-store.ts";
import { createCheckHealthRoutes } from "./health/health-routes.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "./health/check-health.ts";
import { createCheckDeadlineMonitor, satelliteOutageObserver } from "./health/deadline-monitor.ts";
import { createPingRoutes } from "./heartbeat/ping-routes.ts";
import { validateCheck } from "./definitions/validate-check.ts";
import { createMaintenanceWindowDuty } from "./maintenance-windows/maintenance-window-duty.ts";
import { createMaintenanceWindowRoutes } from "./maintenance-windows/maintenance-window-routes.ts";
import { MaintenanceWindowStore } from "./maintenance-windows/maintenance-window-store.ts";
import { type CheckResults, type CheckResultsOptions, startCheckResults } from "./results/start-check-results.ts";
import { createSatelliteRuns, type SatelliteRuns } from "./satellite-runs/satellite-runs.ts";
import { storeCheckSource } from "./scheduling/check-source.ts";
import { type CoreLocationOptions, coreRunProbe, createCoreLocation } from "./scheduling/core-location.ts";
import { CORE_LOCATION, type TrialRun } from "./scheduling/core-runs.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export type ChecksOptions = Pick<CheckResultsOptions, "ingest" | "rollupIntervalMs" | "maintenanceIntervalMs" | "takeoverIntervalMs"> & {
  /** The core location's scheduler: concurrency, claim batch, look-ahead, longest sleep. */
  scheduling?: CoreLocationOptions["scheduling"];
  /** Added to twice a check's timeout for a run on demand on a satellite to answer (default 5 s). */
  satelliteRunMarginMs?: number;
  /** Time between sweeps of the check deadline monitor (default 1 s, at most 2 s). */
  deadlineMonitorIntervalMs?: number;
  /** How often the maintenance window duty looks for windows starting or ending (default 1 s). */
  maintenanceWindowIntervalMs?: number;
};

/** The modules checks are started after. */
export interface ChecksDeps {
  /** Satellites: their registration and presence, the gateway checks are attached to, and its sessions (runs on demand). */
  satellites: Pick<SatellitesModule, "registry" | "attachChecks" | "gateway"> & { service: Pick<SatellitesModule["service"], "observeOutages"> };
}

export interface ChecksModule extends CoreModule {
  /** The definitions: rows by id, definitions opened for the probes; every write NOTIFYs vantage_checks. */
  store: CheckStore;
  /** Results: the ingest batcher every socket and scheduler submits to, rollups, retention. */
  results: CheckResults;
  /** The check-health entity, evaluated in every ingest batch. */
  health: CheckHealth;
  /** What each satellite connected here runs, pushed as checks and satellites change. */
  assignments: SatelliteAssignments;
  /** Runs on demand on satellites, carried out by whichever core holds the satellite's socket. */
  satelliteRuns: SatelliteRuns;
  /** Maintenance windows (config as code writes them in its applies). */
  maintenanceWindows: MaintenanceWindowStore;
  /** Runs an unsaved definition once, now, on the core or a satellite, storing nothing (`vantage test`). */
  runTrial: TrialRunner;
  /** Starts the core location's scheduler; it stops (dropping its runs in flight) before the results. */
  serve(): Promise<void>;
}

/** Runs an unsaved definition once where it is asked, storing nothing; a satellite's refusals (offline, timeout) throw. */
export type TrialRunner = (definition: CheckDefinition, location: typeof CORE_LOCATION | { satelliteId: string }) => Promise<TrialRun | RunOutcome>;

export async function startChecks(deps: ModuleDeps, { satellites }: ChecksDeps, options: ChecksOptions = {}): Promise<ChecksModule> {
  const { config, pool } = deps;
  const { scheduling, deadlineMonitorIntervalMs, maintenanceWindowIntervalMs, ...resultsOptions } = options;
  const retention = {
    rawDays: config.resultRetentionRawDays,
    rollup1mDays: config.resultRetention1mDays,
    rollup1hDays: config.resultRetention1hDays,
    rollup1dDays: config.resultRetention1dDays,
  };
  // Started with the module (its duties only take locks and write rollups), stopped through
  // the stop stack: after the gateway, so the results of closing sockets are still written.
  // Health is evaluated in each ingest batch's transaction, from the results it stored.
  const health = createCheckHealth({ pool, entities: deps.entities, triggers: deps.triggers, now: deps.now });
  const ingest = { ...resultsOptions.ingest, inTransaction: evaluateHealthOnIngest(health, resultsOptions.ingest?.inTransaction) };
  // A lost satellite's checks: named in its offline state, and due at once (their locations turn unobservable).
  satellites.service.observeOutages(satelliteOutageObserver);
  const deadlines = createCheckDeadlineMonitor({
    pool,
    health,
    logger: deps.logger,
    now: deps.now,
    registry: deps.metrics,
    intervalMs: deadlineMonitorIntervalMs,
  });
  const results = startCheckResults({ pool, logger: deps.logger, registry: deps.metrics, now: deps.now, retention, ...resultsOptions, ingest });
  deps.onStop("check results", results.stop);
  const store = new CheckStore({ pool, box: deps.box, onEdited: (tx, checkId) => health.evaluateEdited(tx, [checkId]) });
  // Maintenance windows set the health's maintenance flag: on writes, and at their starts and ends (one duty per cluster).
  const maintenanceWindows = new MaintenanceWindowStore({ pool, health: health.handle, now: deps.now });
  const windowDuty = createMaintenanceWindowDuty({
    pool,
    logger: deps.logger,
    store: maintenanceWindows,
    intervalMs: maintenanceWindowIntervalMs,
    takeoverIntervalMs: options.takeoverIntervalMs,
  });
  windowDuty.start();
  deps.onStop("maintenance window duty", windowDuty.stop);
  const allowPrivateTargets = config.allowPrivateTargets ?? false;

  // Loaded before the gateway serves; stopped after it (and before the ingest is flushed).
  // Satellites get definitions with their credential headers opened: they send them.
  const assignments = createSatelliteAssignments({
    pool,
    hub: deps.hub,
    logger: deps.logger,
    registry: deps.metrics,
    profiles: (ids) => satellites.registry.profiles(ids),
    openDefinition: (row) => store.openDefinition(row),
  });
  await assignments.start();
  deps.onStop("satellite assignments", assignments.stop);
  satellites.attachChecks({
    assignmentsFor: assignments.assignmentsFor,
    sessionObserver: assignments.sessionObserver,
    // Acknowledged once the batch holding it committed; counted under the check's type.
    resultSink: createSatelliteResultSink((result) => results.ingest.submit(result), assignments.typeOf),
  });

  // Listening before the gateway serves: a request relayed from another core finds its socket here.
  const satelliteRuns = createSatelliteRuns({
    pool,
    hub: deps.hub,
    logger: deps.logger,
    box: deps.box,
    instanceId: deps.instanceId,
    satellites: satellites.registry,
    session: (satelliteId) => satellites.gateway.session(satelliteId),
    ingest: results.ingest,
    marginMs: options.satelliteRunMarginMs,
  });
  await satelliteRuns.start();
  deps.onStop("satellite runs", satelliteRuns.stop);

  // The core location: every core runs its share of the core checks, into the results ingest.
  const source = storeCheckSource(store);
  const coreLocation = createCoreLocation({
    pool,
    hub: deps.hub,
    logger: deps.logger,
    registry: deps.metrics,
    instanceId: deps.instanceId,
    now: deps.now,
    runProbe: coreRunProbe(deps.now, { allowPrivateTargets }),
    source,
    ingest: results.ingest,
    scheduling,
  });
  const runRoutes = createCheckRunRoutes({
    runs: coreLocation.runs,
    satellites: satelliteRuns,
    source,
    // Satellites are not restricted to public targets: they probe their own networks.
    validate: (body, { onCore }) => validateCheck(body, null, { allowPrivateTargets: allowPrivateTargets || !onCore }),
  });
  const summaryOptions = { pool, health: health.handle, now: deps.now, retention: results.retention };
  const routes = new Hono()
    // Before the check routes: their GET /:id would take "summaries" for an id.
    .route("/", createCheckSummaryRoutes(summaryOptions))
    .route("/", createCheckRoutes({ store, allowPrivateTargets, pool, now: deps.now, summaries: createSummaryReader(summaryOptions) }))
    .route("/", createCheckResultRoutes({ pool, now: deps.now, retention: results.retention }))
    .route("/", runRoutes)
    .route("/", createCheckHealthRoutes({ pool, store, health: health.handle, now: deps.now, retention: results.retention }))
    .route(
      "/",
      createCheckLocationRoutes({ store, pool, satellites: (page) => satellites.registry.list(page), satellite: (id) => satellites.registry.get(id) }),
    );
  return {
    routes: { "/checks": routes, "/maintenance-windows": createMaintenanceWindowRoutes({ store: maintenanceWindows, now: deps.now }) },
    publicRoutes: { "/hb": createPingRoutes({ pool, ingest: results.ingest, now: deps.now, clientAddressOf: deps.clientAddressOf }) },
    store,
    results,
    health,
    assignments,
    satelliteRuns,
    maintenanceWindows,
    runTrial: async (definition, location) => {
      if (location === CORE_LOCATION) return (await coreLocation.runs.runTrial(definition)) ?? Promise.reject(stoppingDuringRun());
      return satelliteRuns.runTrial(location.satelliteId, definition);
    },
    async serve() {
      await coreLocation.start();
      deps.onStop("core location", coreLocation.stop);
      deadlines.start();
      deps.onStop("check deadline monitor", deadlines.stop);
    },
  };
}
