// The partition maintainer (one per cluster): makes the partitions of the coming days ahead of
// time and drops whole partitions past each level's retention — retention is never a DELETE.
import type pg from "pg";
import { createPeriodicDuty, type PeriodicDuty } from "../../../cluster/index.ts";
import type { Logger } from "../../../log.ts";
import { AdvisoryLock } from "../../../storage/index.ts";
import type { ResultRetention } from "../check-result.ts";
import { PARTITIONS_AHEAD_DAYS } from "../ingest/ingest-results.ts";
import { DAY_MS, dropPartition, isExpired, listPartitions, type PartitionCatalog, RESULT_TABLES } from "../partitions.ts";

/** Partitions are made days ahead, so a pass every 10 minutes is plenty; drops are never urgent. */
export const DEFAULT_MAINTENANCE_INTERVAL_MS = 10 * 60 * 1000;

export interface MaintenancePass {
  created: string[];
  dropped: string[];
}

export interface MaintenanceOptions {
  partitions: PartitionCatalog;
  retention: ResultRetention;
  now: () => number;
  aheadDays?: number;
  /** Checked between drops: a stopping core leaves the rest to the next pass. */
  isRunning?: () => boolean;
}

/**
 * One pass on `client` (outside any transaction: DETACH … CONCURRENTLY cannot run inside one).
 * Makes every level's partitions from today to `aheadDays` ahead, then drops the partitions
 * that lie wholly before now − retention.
 */
export async function maintainPartitions(client: pg.ClientBase, options: MaintenanceOptions): Promise<MaintenancePass> {
  const now = options.now();
  const aheadDays = options.aheadDays ?? PARTITIONS_AHEAD_DAYS;
  const days = Array.from({ length: aheadDays + 1 }, (_, i) => now + i * DAY_MS);
  const pass: MaintenancePass = { created: [], dropped: [] };
  for (const table of Object.values(RESULT_TABLES)) {
    pass.created.push(...(await options.partitions.ensure(table.level, days)));
  }
  for (const table of Object.values(RESULT_TABLES)) {
    for (const partition of await listPartitions(client, table)) {
      if (!isExpired(table, partition.start, options.retention, now)) continue;
      if (!(options.isRunning?.() ?? true)) return pass;
      await dropPartition(client, table, partition);
      options.partitions.forget(table.level, partition.start);
      pass.dropped.push(partition.name);
    }
  }
  return pass;
}

export interface PartitionMaintainerOptions extends Omit<MaintenanceOptions, "isRunning"> {
  pool: pg.Pool;
  logger: Logger;
  intervalMs?: number;
  takeoverIntervalMs?: number;
}

/** The maintainer's loop; its runOnce() is one pass now (tests). */
export type PartitionMaintainer = PeriodicDuty<MaintenancePass>;

export function createPartitionMaintainer(options: PartitionMaintainerOptions): PartitionMaintainer {
  const log = options.logger.child({ component: "check-result-retention" });
  return createPeriodicDuty({
    pool: options.pool,
    lock: AdvisoryLock.checkResultPartitions,
    duty: "check result partition maintainer",
    logger: log,
    intervalMs: options.intervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS,
    takeoverIntervalMs: options.takeoverIntervalMs,
    pass: async (client, isRunning) => {
      const result = await maintainPartitions(client, { ...options, isRunning });
      if (result.dropped.length > 0) log.info({ dropped: result.dropped }, "dropped check result partitions past their retention");
      return result;
    },
  });
}
