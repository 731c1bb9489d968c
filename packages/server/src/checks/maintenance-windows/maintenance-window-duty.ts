// The one-per-cluster duty that turns maintenance windows on and off without waiting for a
// result: each pass asks only for the windows whose next start or end has passed (a partial
// index on next_boundary_at), moves them on and flips their checks' `maintenance` flag.
import type pg from "pg";
import { createPeriodicDuty, type PeriodicDuty } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { AdvisoryLock } from "../../storage/index.ts";
import type { MaintenanceWindowStore } from "./maintenance-window-store.ts";

/** A boundary is acted on within about this long (the flag flips at most this late). */
export const DEFAULT_WINDOW_DUTY_INTERVAL_MS = 1_000;

export interface MaintenanceWindowDutyOptions {
  pool: pg.Pool;
  logger: Logger;
  store: Pick<MaintenanceWindowStore, "advanceDue">;
  intervalMs?: number;
  takeoverIntervalMs?: number;
}

/** Its runOnce() is one pass now (tests): how many windows moved. */
export function createMaintenanceWindowDuty(options: MaintenanceWindowDutyOptions): PeriodicDuty<number> {
  const log = options.logger.child({ component: "maintenance-windows" });
  return createPeriodicDuty({
    pool: options.pool,
    lock: AdvisoryLock.maintenanceWindows,
    duty: "maintenance window duty",
    logger: log,
    intervalMs: options.intervalMs ?? DEFAULT_WINDOW_DUTY_INTERVAL_MS,
    takeoverIntervalMs: options.takeoverIntervalMs,
    pass: () => options.store.advanceDue(),
  });
}
