// The core location assembled: its metrics, its runs, the scheduler that claims its share of
// the cluster's core checks, and the on-demand run routes. startChecks builds it with its three
// seams (the probe library, the definitions store, results ingest) and starts it once the core
// serves.
import { coreAddressPolicy, runProbe } from "@vantage/probes";
import type { Hono } from "hono";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { outbound } from "../../outbound/index.ts";
import { type CheckRunRoutesOptions, createCheckRunRoutes } from "../api/run-routes.ts";
import { createCoreLocationMetrics } from "./core-location-metrics.ts";
import { type CoreCheckSource, createCoreRuns, type ResultSubmitter } from "./core-runs.ts";
import { createCoreScheduler, type CoreSchedulerOptions } from "./core-scheduler.ts";
import type { RunProbe } from "./probe-run.ts";

/**
 * The probe library as the core runs it: through the core's outbound client, refusing
 * link-local and cloud metadata addresses (where a check could read the core's own cloud
 * credentials).
 */
export function coreRunProbe(now: () => number, options: { allowPrivateTargets: boolean }): RunProbe {
  // VANTAGE_ALLOW_PRIVATE_TARGETS lifts the rule at run time as it does when a check is saved.
  const addressPolicy = options.allowPrivateTargets ? undefined : coreAddressPolicy("set VANTAGE_ALLOW_PRIVATE_TARGETS=true");
  return (spec, { signal }) => runProbe(spec, { signal, outbound, addressPolicy, now });
}

export interface CoreLocationOptions {
  pool: pg.Pool;
  hub: NotificationHub;
  logger: Logger;
  registry: Registry;
  instanceId: string;
  now: () => number;
  /** `coreRunProbe`: the probe library with the core's outbound client and address policy. */
  runProbe: RunProbe;
  /** The definitions store: a check by id, its definition opened. */
  source: CoreCheckSource;
  /** Results ingest: every run's result, scheduled or on demand. */
  ingest: ResultSubmitter;
  /** Reads an unsaved definition for `POST /checks/test` as a save would (schema, private targets). */
  validate: CheckRunRoutesOptions["validate"];
  scheduling?: Pick<CoreSchedulerOptions, "concurrency" | "batchSize" | "claimAheadMs" | "maxIdleMs">;
}

export interface CoreLocation {
  /** Mounted at /api/v1/checks: `POST /:id/run` and `POST /test`. */
  routes: Hono;
  /** Starts claiming this core's share of the scheduled runs. */
  start(): Promise<void>;
  /** Stops claiming and aborts the runs in flight (their results are dropped). */
  stop(): Promise<void>;
}

export function createCoreLocation(options: CoreLocationOptions): CoreLocation {
  const { pool, hub, logger, source } = options;
  const metrics = createCoreLocationMetrics(options.registry);
  const runs = createCoreRuns({ runProbe: options.runProbe, source, ingest: options.ingest, metrics, logger, now: options.now });
  const scheduler = createCoreScheduler({ pool, hub, runs, metrics, logger, instanceId: options.instanceId, ...options.scheduling });
  return { routes: createCheckRunRoutes({ runs, source, validate: options.validate }), start: scheduler.start, stop: scheduler.stop };
}
