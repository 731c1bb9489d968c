// The core location assembled: its metrics, its runs (scheduled, and on demand through the run
// routes) and the scheduler that claims its share of the cluster's core checks. startChecks
// builds it with its three seams (the probe library, the definitions store, results ingest) and
// starts it once the core serves.
import { coreAddressPolicy, runProbe } from "@vantage/probes";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { outbound } from "../../outbound/index.ts";
import { createCoreLocationMetrics } from "./core-location-metrics.ts";
import { type CoreCheckSource, type CoreRuns, createCoreRuns, type ResultSubmitter } from "./core-runs.ts";
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
  scheduling?: Pick<CoreSchedulerOptions, "concurrency" | "maxPending" | "batchSize" | "claimAheadMs" | "maxIdleMs">;
}

export interface CoreLocation {
  /** Runs on the core, scheduled or on demand (`POST /checks/:id/run`, `POST /checks/test`). */
  runs: CoreRuns;
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
  return { runs, start: scheduler.start, stop: scheduler.stop };
}
