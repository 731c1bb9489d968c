// Prometheus metrics of check results: ingest batches, results by status and by what became
// of them, and the rollup worker's passes. Registered on the instance's registry.
import { CHECK_TYPES } from "@vantage/protocol";
import { Counter, Histogram, type Registry } from "prom-client";
import { zeroSeries } from "../../http/index.ts";
import { CHECK_RESULT_STATUSES } from "./check-result.ts";
import type { DropReason } from "./ingest/ingest-results.ts";

/** The type label of a result whose check's type the submitter did not know. */
export const UNKNOWN_CHECK_TYPE = "unknown";

export interface ResultMetrics {
  batchSize: Histogram;
  batchDuration: Histogram;
  batchFailures: Counter;
  /** Batches inserted without ON CONFLICT that held a stored result, and were redone with it. */
  unmarkedResendBatches: Counter;
  /** Results newly stored, by check type and status. */
  stored: Counter<"type" | "status">;
  duplicates: Counter;
  dropped: Counter<"reason">;
  rollupPassDuration: Histogram;
  /** Minutes recomputed from raw by the rollup worker. */
  rollupMinutes: Counter;
}

const BATCH_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const ROLLUP_PASS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DROP_REASONS = ["expired", "future"] as const satisfies readonly DropReason[];

export function createResultMetrics(registry?: Registry): ResultMetrics {
  const registers = registry ? [registry] : [];
  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers });
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  // Every value of the label is exported from the start, at zero, so rate() works before its first count.
  const counterBy = <Label extends string>(name: string, help: string, label: Label, values: readonly string[]) => {
    const created = new Counter<Label>({ name, help, labelNames: [label], registers });
    for (const value of values) created.inc({ [label]: value } as Partial<Record<Label, string>>, 0);
    return created;
  };
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
  return {
    batchSize: histogram(
      "vantage_check_result_ingest_batch_size",
      "Results in one ingest batch (one INSERT statement)",
      [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    ),
    batchDuration: histogram("vantage_check_result_ingest_batch_duration_seconds", "Duration of one ingest batch, to its commit", BATCH_SECONDS),
    batchFailures: counter("vantage_check_result_ingest_failures_total", "Ingest batches that failed (their results were not acknowledged)"),
    unmarkedResendBatches: counter(
      "vantage_check_result_ingest_unmarked_resend_batches_total",
      "Ingest batches without a result marked as a resend that held one already stored, and were stored again skipping resends (an agent that does not mark resends)",
    ),
    stored,
    duplicates: counter("vantage_check_results_duplicate_total", "Check results already stored (a satellite's resend)"),
    dropped: counterBy(
      "vantage_check_results_dropped_total",
      "Check results not stored: expired (older than the raw retention) or future (clock skew)",
      "reason",
      DROP_REASONS,
    ),
    rollupPassDuration: histogram("vantage_check_rollup_pass_duration_seconds", "Duration of one rollup worker pass", ROLLUP_PASS_SECONDS),
    rollupMinutes: counter("vantage_check_rollup_minutes_total", "Check/location minutes recomputed from raw results by the rollup worker"),
  };
}
