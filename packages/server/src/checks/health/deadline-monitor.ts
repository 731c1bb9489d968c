// The check deadline monitor: re-evaluates the checks whose stale_at passed — a location gone
// silent, a satellite gone offline (its edge makes the checks it observes due) — without
// waiting for a result. The cluster's deadline monitor over check_health, on one process at a time.
import type pg from "pg";
import type { Registry } from "prom-client";
import { createDeadlineMonitor, type DeadlineMonitor } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";
import type { CheckHealth } from "./check-health.ts";
import { findDueChecks, makeLocationsDue, readAffectedChecks } from "./check-health-store.ts";
import type { SatelliteOutageObserver } from "../../satellites/index.ts";

/** How many check names a lost satellite's state lists (the count says how many in all). */
export const AFFECTED_CHECK_NAMES = 10;

/**
 * What a satellite's outage means for checks: its offline state names the checks it observes,
 * and going offline makes them due, so this monitor turns their locations unobservable at its
 * next sweep (outage folding: checks it alone observed go unknown, never unhealthy).
 */
export const satelliteOutageObserver: SatelliteOutageObserver = {
  affectedChecks: (db, ids) => readAffectedChecks(db, ids, AFFECTED_CHECK_NAMES),
  wentOffline: makeLocationsDue,
};

/** Time between sweeps: a deadline is acted on within this (plus the evaluation). */
export const CHECK_DEADLINE_MONITOR_INTERVAL_MS = 1000;

export interface CheckDeadlineMonitorOptions {
  pool: pg.Pool;
  health: Pick<CheckHealth, "evaluateDue">;
  logger: Logger;
  now: () => number;
  intervalMs?: number;
  takeoverIntervalMs?: number;
  batchSize?: number;
  registry?: Registry;
  onSweep?: (evaluated: readonly string[]) => void;
}

export function createCheckDeadlineMonitor(options: CheckDeadlineMonitorOptions): DeadlineMonitor {
  const { pool, now } = options;
  return createDeadlineMonitor({
    pool,
    lock: AdvisoryLock.checkDeadlineMonitor,
    duty: "check deadline monitor",
    logger: options.logger,
    intervalMs: options.intervalMs ?? CHECK_DEADLINE_MONITOR_INTERVAL_MS,
    takeoverIntervalMs: options.takeoverIntervalMs,
    batchSize: options.batchSize,
    findExpired: (limit) => findDueChecks(pool, now(), limit),
    // Every check evaluated moved its stale_at past now (or cleared it): progress either way.
    record: (due) => options.health.evaluateDue(due),
    metric: { name: "vantage_check_deadline_evaluations_total", help: "Checks this process re-evaluated because their deadline (stale_at) passed" },
    registry: options.registry,
    onSweep: options.onSweep,
  });
}
