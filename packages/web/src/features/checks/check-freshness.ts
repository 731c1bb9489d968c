// How fresh a check's results are, by the rule the core's health uses: a location whose newest
// result is older than interval + timeout + grace is stale (unobservable). Pure, for the list
// and the detail alike.
import type { CheckHealth } from "../../api/client.ts";

/** The core's default `health.graceSeconds`. */
export const DEFAULT_GRACE_SECONDS = 30;

/** The newest result of any location, ISO; null before the first. */
export function lastResultAt(health: Pick<CheckHealth, "locations"> | null | undefined): string | null {
  let newest: string | null = null;
  for (const location of Object.values(health?.locations ?? {})) {
    if (location.lastResultAt !== null && (newest === null || Date.parse(location.lastResultAt) > Date.parse(newest))) newest = location.lastResultAt;
  }
  return newest;
}

export interface Schedule {
  intervalSeconds: number;
  timeoutMs: number;
  health?: { graceSeconds?: number };
}

/** True once a result this old means a run is overdue; false before the first result (nothing to be stale). */
export function isStale(lastAt: string | null, schedule: Schedule, now: number): boolean {
  if (lastAt === null) return false;
  const allowedMs = schedule.intervalSeconds * 1000 + schedule.timeoutMs + (schedule.health?.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  return now - Date.parse(lastAt) > allowedMs;
}
