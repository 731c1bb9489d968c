// Declares `heartbeat_lost` for connected satellites whose heartbeat expired, whichever
// process held (or still holds) their socket: the cluster's deadline monitor over satellites.
import type pg from "pg";
import type { Registry } from "prom-client";
import { createDeadlineMonitor, type DeadlineMonitor } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";
import type { SatelliteService } from "./service.ts";

/** Time between sweeps. Detection comes within threshold + this + the marking itself. */
export const HEARTBEAT_MONITOR_INTERVAL_MS = 1000;

/**
 * Satellites one sweep records in one transaction. A mass outage of 10,000 is then ten
 * commits: each batch's query and mutateMany cost about the same whether they carry 500 or
 * 1,000 (bench/mass-outage), and the losses reach the router sooner.
 */
export const HEARTBEAT_MONITOR_BATCH_SIZE = 1000;

/**
 * Batches a sweep records at once (disjoint satellites, a transaction each). One after another,
 * 10,000 losses took 11 s at load 10 while the database and the core each sat half idle: each
 * batch's round trips waited on the other's and on the event loop the runs share
 * (bench/mass-outage, docs/benchmarks/2026-12-03-mass-outage-monitor.md).
 */
export const HEARTBEAT_MONITOR_PARALLEL_BATCHES = 3;

export interface HeartbeatMonitorOptions {
  pool: pg.Pool;
  satellites: Pick<SatelliteService, "claimExpiredAndMarkLost">;
  logger: Logger;
  /** Time between sweeps of the active monitor (default 1 s, at most 2 s). */
  intervalMs?: number;
  /** How often a standby monitor tries to become the active one (default 1 s). */
  takeoverIntervalMs?: number;
  /** Most satellites one sweep handles (one transaction, default HEARTBEAT_MONITOR_BATCH_SIZE); a larger backlog continues at once. */
  batchSize?: number;
  /** Batches a sweep records at once (default HEARTBEAT_MONITOR_PARALLEL_BATCHES). */
  parallelBatches?: number;
  /** Whether a standby sweeps too (default true): a mass outage is recorded by every core. */
  sweepOnStandby?: boolean;
  registry?: Registry;
  /** Observes the loop (tests): after each sweep of the active monitor. */
  onSweep?: (lost: readonly string[]) => void;
}

/**
 * `sweep()` records, on this process, lock or not, the satellites found lost (each edge is a
 * conditional update). The active monitor sweeps every interval; standbys do too, each batch
 * on the expired satellites no other batch holds.
 */
export type HeartbeatMonitor = DeadlineMonitor;

export function createHeartbeatMonitor(options: HeartbeatMonitorOptions): HeartbeatMonitor {
  const { satellites } = options;
  return createDeadlineMonitor({
    pool: options.pool,
    lock: AdvisoryLock.heartbeatMonitor,
    duty: "heartbeat monitor",
    logger: options.logger,
    intervalMs: options.intervalMs ?? HEARTBEAT_MONITOR_INTERVAL_MS,
    takeoverIntervalMs: options.takeoverIntervalMs,
    batchSize: options.batchSize ?? HEARTBEAT_MONITOR_BATCH_SIZE,
    parallelBatches: options.parallelBatches ?? HEARTBEAT_MONITOR_PARALLEL_BATCHES,
    // Each batch finds and locks its own satellites in its transaction (skipping those another
    // batch, here or on another core, holds), so batches and cores split an outage.
    claim: (limit) => satellites.claimExpiredAndMarkLost({ limit }),
    sweepOnStandby: options.sweepOnStandby ?? true,
    metric: { name: "vantage_satellite_heartbeat_lost_total", help: "Satellites this process's heartbeat monitor recorded as heartbeat_lost" },
    registry: options.registry,
    onSweep: options.onSweep,
  });
}
