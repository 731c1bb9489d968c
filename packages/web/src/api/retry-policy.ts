// When a failed read is asked again, and after how long: the query cache's retry policy. A 503
// is the core saying "not now" (its database not ready yet, or it is shutting down and another
// core will answer): a restart or failover takes seconds, so it is retried for longer than any
// other failure, with growing waits, before a screen shows an error.
import { ApiError } from "./client.ts";

/** Attempts after the first, by what failed. */
export const RETRIES = { unavailable: 6, other: 2 } as const;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/** The core or the network said "try again later": a 503, or no answer at all. */
function isUnavailable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 503 || error.code === "network");
}

/** A 4xx will not change by asking again (a 401 signs out instead); a 503 or a lost connection will, given time. */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < (isUnavailable(error) ? RETRIES.unavailable : RETRIES.other);
}

/**
 * The wait before attempt `failures + 1`: the core's Retry-After when it sent one, else doubling
 * from 0.5 s up to 8 s, each wait between half and all of that (jitter: the tabs a failover left
 * waiting do not all come back in the same instant).
 */
export function retryDelay(failures: number, error: unknown, random: () => number = Math.random): number {
  if (error instanceof ApiError && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, MAX_DELAY_MS * 4);
  const ceiling = Math.min(BASE_DELAY_MS * 2 ** failures, MAX_DELAY_MS);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
