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

/** How old the newest result may be before a run is overdue: interval + timeout + grace (NaN without an interval: never stale). */
export const staleAfterMs = (schedule: Schedule): number =>
  schedule.intervalSeconds * 1000 + schedule.timeoutMs + (schedule.health?.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;

/**
 * True once a result this old means a run is overdue; false before the first result (nothing to
 * be stale). The schedule, or its `staleAfterMs` worked out before (the list keeps that only).
 */
export function isStale(lastAt: string | null, schedule: Schedule | { staleAfterMs: number }, now: number): boolean {
  if (lastAt === null) return false;
  return now - Date.parse(lastAt) > ("staleAfterMs" in schedule ? schedule.staleAfterMs : staleAfterMs(schedule));
}
