// Uptime and reachability of a check over a range, overall and per location. Uptime is
// time-weighted from the check-health entity's recorded changes: time up (healthy or degraded)
// over time up or down (unhealthy); `unknown` (nobody could observe) and maintenance time
// count for neither. Reachability is from the result rollups: successes ÷ observable results.
import type pg from "pg";
import type { SqlClient } from "../../entities/index.ts";
import type { ResultRetention } from "../results/check-result.ts";
import { availabilityOf, checkStats, type StatusCounts } from "../results/reads/check-stats.ts";
import { CHECK_HEALTH_ENTITY_KIND } from "./check-health-entity.ts";

/** The entity's state from an instant on (what the fold needs of it). */
export interface HealthSpan {
  /** Epoch ms the state was recorded. */
  at: number;
  status: string;
  maintenance: boolean;
  locations: Record<string, { status: string }>;
}

export interface Durations {
  [status: string]: number;
}

export interface UptimeFold {
  /** (healthy + degraded) ÷ (healthy + degraded + unhealthy), outside maintenance; null when never observed. */
  uptime: number | null;
  /** Milliseconds per status outside maintenance (unknown: no state, or nobody could observe), and in maintenance. */
  durations: { healthyMs: number; degradedMs: number; unhealthyMs: number; unknownMs: number; maintenanceMs: number };
  locations: Record<string, { uptime: number | null; durations: { healthyMs: number; degradedMs: number; unhealthyMs: number; unobservableMs: number } }>;
}

const ratio = (up: number, down: number): number | null => (up + down > 0 ? up / (up + down) : null);

/**
 * Folds the states in force over [from, to) — `spans` sorted by time, the first one the state
 * at `from` if there was one — into time per status. Before the first state the check is unknown.
 */
export function foldUptime(spans: readonly HealthSpan[], from: number, to: number): UptimeFold {
  const check: Record<string, number> = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0, maintenance: 0 };
  const byLocation = new Map<string, Record<string, number>>();
  const add = (state: HealthSpan | null, start: number, end: number) => {
    const ms = Math.min(end, to) - Math.max(start, from);
    if (ms <= 0) return;
    if (state === null) return void (check.unknown! += ms);
    if (state.maintenance) return void (check.maintenance! += ms);
    check[state.status] = (check[state.status] ?? 0) + ms;
    for (const [location, { status }] of Object.entries(state.locations)) {
      const tally = byLocation.get(location) ?? { healthy: 0, degraded: 0, unhealthy: 0, unobservable: 0 };
      tally[status] = (tally[status] ?? 0) + ms;
      byLocation.set(location, tally);
    }
  };
  add(null, from, spans[0]?.at ?? to);
  spans.forEach((span, index) => add(span, span.at, spans[index + 1]?.at ?? to));
  const upOf = (tally: Record<string, number>) => tally.healthy! + tally.degraded!;
  return {
    uptime: ratio(upOf(check), check.unhealthy!),
    durations: {
      healthyMs: check.healthy!,
      degradedMs: check.degraded!,
      unhealthyMs: check.unhealthy!,
      unknownMs: check.unknown!,
      maintenanceMs: check.maintenance!,
    },
    locations: Object.fromEntries(
      [...byLocation].map(([location, tally]) => [
        location,
        {
          uptime: ratio(upOf(tally), tally.unhealthy!),
          durations: { healthyMs: tally.healthy!, degradedMs: tally.degraded!, unhealthyMs: tally.unhealthy!, unobservableMs: tally.unobservable! },
        },
      ]),
    ),
  };
}

// The state in force at `from` (the newest change recorded at or before it) and every change
// recorded in (from, to), oldest first: both from the entity's (kind, entity_id, seq) index.
const SPANS = `
  (SELECT occurred_at, next FROM entity_changes
   WHERE kind = '${CHECK_HEALTH_ENTITY_KIND}' AND entity_id = $1 AND occurred_at <= $2 ORDER BY seq DESC LIMIT 1)
  UNION ALL
  (SELECT occurred_at, next FROM entity_changes
   WHERE kind = '${CHECK_HEALTH_ENTITY_KIND}' AND entity_id = $1 AND occurred_at > $2 AND occurred_at < $3 ORDER BY seq)`;

/** The states in force over [from, to), by the time each was recorded; a tombstone ends with unknown. */
export async function loadHealthSpans(db: SqlClient, checkId: string, from: number, to: number): Promise<HealthSpan[]> {
  const { rows } = await db.query<{ occurred_at: Date; next: { status: string; maintenance: boolean; locations: Record<string, { status: string }> } | null }>({
    name: "vantage_check_health_spans",
    text: SPANS,
    values: [checkId, new Date(from).toISOString(), new Date(to).toISOString()],
  });
  return rows
    .map((row) => ({
      at: row.occurred_at.getTime(),
      status: row.next?.status ?? "unknown",
      maintenance: row.next?.maintenance ?? false,
      locations: row.next?.locations ?? {},
    }))
    .sort((a, b) => a.at - b.at);
}

export interface CheckUptime extends UptimeFold {
  checkId: string;
  from: string;
  to: string;
  /** Successes ÷ observable results (probe errors excluded), over every location; null without results. */
  reachability: number | null;
  locations: Record<string, UptimeFold["locations"][string] & { reachability: number | null; counts: StatusCounts }>;
}

const NO_TIME = { uptime: null, durations: { healthyMs: 0, degradedMs: 0, unhealthyMs: 0, unobservableMs: 0 } };
const NO_COUNTS: StatusCounts = { total: 0, up: 0, degraded: 0, down: 0, error: 0 };

/** Uptime (from the entity's history) and reachability (from the rollups) of a check over [from, to). */
export async function checkUptime(
  pool: pg.Pool,
  checkId: string,
  range: { from: number; to: number },
  options: { now: () => number; retention?: ResultRetention },
): Promise<CheckUptime> {
  const to = Math.min(range.to, options.now());
  const [spans, stats] = await Promise.all([
    loadHealthSpans(pool, checkId, range.from, to),
    checkStats(pool, checkId, { from: range.from, to: Math.max(to, range.from + 1) }, options),
  ]);
  const fold = foldUptime(spans, range.from, to);
  const total: StatusCounts = { ...NO_COUNTS };
  const counts = new Map(stats.locations.map((location) => [location.location, location.counts]));
  for (const location of counts.values()) for (const key of Object.keys(total) as Array<keyof StatusCounts>) total[key] += location[key];
  const names = new Set([...Object.keys(fold.locations), ...counts.keys()]);
  return {
    checkId,
    from: new Date(range.from).toISOString(),
    to: new Date(to).toISOString(),
    ...fold,
    reachability: availabilityOf(total),
    locations: Object.fromEntries(
      [...names].sort().map((name) => {
        const locationCounts = counts.get(name) ?? NO_COUNTS;
        return [name, { ...(fold.locations[name] ?? NO_TIME), reachability: availabilityOf(locationCounts), counts: locationCounts }];
      }),
    ),
  };
}
