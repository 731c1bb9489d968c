// The core location's metrics: how late scheduled runs start, how many runs end how, and how
// many are going on now. Registered on the core instance's registry.
import { CHECK_RUN_STATUSES, CHECK_TYPES } from "@vantage/protocol";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { zeroSeries } from "../../http/index.ts";

export interface CoreLocationMetrics {
  /** `vantage_check_scheduler_lag_seconds`: from a run's slot to its start. */
  lag: Histogram;
  /** `vantage_check_runs_total{type,status}`: every run on the core, scheduled or on demand. */
  runs: Counter<"type" | "status">;
  /** `vantage_check_runs_in_flight`: scheduled runs this core claimed and has not finished probing. */
  inFlight: Gauge;
  /** `vantage_check_runs_storing`: scheduled runs whose probe ended, their result waiting for the ingest's commit. */
  storing: Gauge;
  /** `vantage_check_schedule_claim_seconds`: one claim statement, sent to answered (a slow one starves the core of runs). */
  claimDuration: Histogram;
}

export function createCoreLocationMetrics(registry: Registry): CoreLocationMetrics {
  const runs = zeroSeries(
    new Counter({
      name: "vantage_check_runs_total",
      help: "Check runs on the core location, scheduled or on demand, by check type and status (up, degraded, down; error: the probe could not run)",
      labelNames: ["type", "status"] as const,
      registers: [registry],
    }),
    CHECK_TYPES.flatMap((type) => CHECK_RUN_STATUSES.map((status) => ({ type, status }))),
  );
  return {
    lag: new Histogram({
      name: "vantage_check_scheduler_lag_seconds",
      help: "Time from a core-location run's slot to its start (claimed late, a full core, a slow event loop)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    runs,
    inFlight: new Gauge({
      name: "vantage_check_runs_in_flight",
      help: "Core-location runs this core has claimed and not finished probing (at most its concurrency)",
      registers: [registry],
    }),
    storing: new Gauge({
      name: "vantage_check_runs_storing",
      help: "Core-location runs whose probe ended and whose result waits for the ingest's commit (a slow database shows here)",
      registers: [registry],
    }),
    claimDuration: new Histogram({
      name: "vantage_check_schedule_claim_seconds",
      help: "Duration of one claim of due core-location runs (one statement, up to a batch of runs)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
