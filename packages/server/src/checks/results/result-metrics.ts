// Prometheus metrics of check results: ingest batches, results by status and by what became
// of them, and the rollup worker's passes. Registered on the instance's registry.
import { CHECK_TYPES } from "@vantage/protocol";
import { Counter, Histogram, type Registry } from "prom-client";
import { zeroSeries } from "../../http/index.ts";
import { CHECK_RESULT_STATUSES } from "./check-result.ts";

/** The type label of a result whose check's type the submitter did not know. */
export const UNKNOWN_CHECK_TYPE = "unknown";

export interface ResultMetrics {
  batchSize: Histogram;
  batchDuration: Histogram;
  batchFailures: Counter;
  /** Results newly stored, by check type and status. */
  stored: Counter<"type" | "status">;
  duplicates: Counter;
  dropped: Counter<"reason">;
  rollupPassDuration: Histogram;
  /** Minutes recomputed from raw by the rollup worker. */
  rollupMinutes: Counter;
}

export function createResultMetrics(registry?: Registry): ResultMetrics {
  const registers = registry ? [registry] : [];
  // Every type and status is exported from the start, at zero, so rate() works before its first result.
  const stored = zeroSeries(
    new Counter({
      name: "vantage_check_results_total",
      help: "Check results stored (from every location: the core and satellites), by check type and status",
      labelNames: ["type", "status"] as const,
      registers,
    }),
    CHECK_TYPES.flatMap((type) => CHECK_RESULT_STATUSES.map((status) => ({ type, status }))),
  );
  const dropped = new Counter({ name: "vantage_check_results_dropped_total", help: "Check results not stored: expired (older than the raw retention) or future (clock skew)", labelNames: ["reason"], registers });
  for (const reason of ["expired", "future"]) dropped.inc({ reason }, 0);
  return {
    batchSize: new Histogram({
      name: "vantage_check_result_ingest_batch_size",
      help: "Results in one ingest batch (one INSERT statement)",
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    batchDuration: new Histogram({
      name: "vantage_check_result_ingest_batch_duration_seconds",
      help: "Duration of one ingest batch, to its commit",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchFailures: new Counter({ name: "vantage_check_result_ingest_failures_total", help: "Ingest batches that failed (their results were not acknowledged)", registers }),
    stored,
    duplicates: new Counter({ name: "vantage_check_results_duplicate_total", help: "Check results already stored (a satellite's resend)", registers }),
    dropped,
    rollupPassDuration: new Histogram({
      name: "vantage_check_rollup_pass_duration_seconds",
      help: "Duration of one rollup worker pass",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rollupMinutes: new Counter({ name: "vantage_check_rollup_minutes_total", help: "Check/location minutes recomputed from raw results by the rollup worker", registers }),
  };
}
