// Starts the results side of checks in one core process: the ingest batcher, the rollup
// worker and the partition maintainer (both one per cluster), and stops them in order.
import type pg from "pg";
import type { Registry } from "prom-client";
import { VantageError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { type CheckResultInput, DEFAULT_RESULT_RETENTION, type ResultRetention, retentionProblem } from "./check-result.ts";
import { type IngestContext, type IngestOutcome, ingestResults } from "./ingest/ingest-results.ts";
import { createPartitionMaintainer, type PartitionMaintainer } from "./maintenance/partition-maintainer.ts";
import { createPartitionCatalog } from "./partitions.ts";
import { createResultIngest, type ResultIngest, type ResultIngestOptions } from "./ingest/result-ingest.ts";
import { createResultMetrics } from "./result-metrics.ts";
import { createRollupWorker, type RollupWorker } from "./maintenance/rollup-worker.ts";

export interface CheckResultsOptions {
  pool: pg.Pool;
  logger: Logger;
  /** The instance's metrics registry. */
  registry?: Registry;
  /** The clock, in epoch milliseconds (retention and clock-skew limits). */
  now?: () => number;
  /** Days per level; unset fields take DEFAULT_RESULT_RETENTION. Refused (fatal) when a level would outlive the one above it. */
  retention?: Partial<ResultRetention>;
  ingest?: Pick<ResultIngestOptions, "maxBatch" | "maxDelayMs" | "concurrency" | "inTransaction">;
  rollupIntervalMs?: number;
  maintenanceIntervalMs?: number;
  /** How often a standby tries to take over the rollup worker and the maintainer. */
  takeoverIntervalMs?: number;
}

export interface CheckResults {
  /** The batcher every socket and scheduler of this process submits to. */
  ingest: ResultIngest;
  /** One batch in the caller's transaction, with this process's partitions, clock and retention. */
  ingestResults(client: Pick<pg.ClientBase, "query">, results: readonly CheckResultInput[]): Promise<IngestOutcome>;
  rollups: RollupWorker;
  maintainer: PartitionMaintainer;
  retention: ResultRetention;
  /** Flushes the ingest, then stops the duties. */
  stop(): Promise<void>;
}

export function startCheckResults(options: CheckResultsOptions): CheckResults {
  const { pool, logger } = options;
  const now = options.now ?? Date.now;
  const retention = resolveRetention(options.retention ?? {});
  const metrics = createResultMetrics(options.registry);
  const partitions = createPartitionCatalog({ pool, logger });
  const context: IngestContext = { partitions, retention, now };
  const ingest = createResultIngest({ pool, logger, context, metrics, ...options.ingest });
  const rollups = createRollupWorker({
    pool,
    logger,
    partitions,
    metrics,
    intervalMs: options.rollupIntervalMs,
    takeoverIntervalMs: options.takeoverIntervalMs,
  });
  const maintainer = createPartitionMaintainer({
    pool,
    logger,
    partitions,
    retention,
    now,
    intervalMs: options.maintenanceIntervalMs,
    takeoverIntervalMs: options.takeoverIntervalMs,
  });
  maintainer.start();
  rollups.start();
  return {
    ingest,
    ingestResults: (client, results) => ingestResults(client, results, context),
    rollups,
    maintainer,
    retention,
    async stop() {
      await ingest.stop();
      await rollups.stop();
      await maintainer.stop();
    },
  };
}

/** The configured days over the defaults; throws a fatal error naming the settings when they do not fit together. */
export function resolveRetention(configured: Partial<ResultRetention>): ResultRetention {
  const retention = { ...DEFAULT_RESULT_RETENTION };
  for (const field of Object.keys(retention) as Array<keyof ResultRetention>) retention[field] = configured[field] ?? retention[field];
  const problem = retentionProblem(retention);
  if (problem) throw new VantageError("fatal", "invalid_config", `Invalid check result retention: ${problem.message}.`);
  return retention;
}
