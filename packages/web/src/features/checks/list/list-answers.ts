// What the checks list keeps of the core's answers, cut to what its rows show as each answer
// arrives: a row's fields of the check (not its whole definition), a health's status, dots and
// newest result, and the bars and latencies packed in typed arrays, one per page. Scrolled to its
// end the list holds 10,000 checks; as parsed, they and their summaries were about 40 objects a
// check that every major garbage collection marked again while scrolling
// (docs/benchmarks/2026-12-03-checks-list-long-tasks.md). Pure: the answer parser's worker runs
// it too (answer-parser.ts).
import type { CheckHealthStatus, CheckListItem, CheckPage, CheckSummaries, LocationHealthStatus } from "../../../api/client.ts";
import { lastResultAt, staleAfterMs } from "../check-freshness.ts";
import { targetOf } from "../check-types.ts";
import { newestTone, packCounts, type PackedCounts, segmentsIn, sumCounts, toneOf } from "./uptime-bar-model.ts";

/** What a list row shows of a check: the rest of its definition is dropped as its page arrives. */
export interface CheckRowItem {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  /** What it probes (check-types.ts `targetOf`). */
  target: string;
  /** Once the core's list carries it (until then, from the summaries). */
  status?: CheckHealthStatus;
  /** How old its newest result may be before it reads stale (check-freshness.ts). */
  staleAfterMs: number;
}

/** A page of the list as kept. */
export interface RowPage {
  checks: CheckRowItem[];
  nextCursor: string | null;
}

export function rowItem(check: CheckListItem): CheckRowItem {
  return {
    id: check.id,
    name: check.name,
    type: check.type,
    enabled: check.enabled,
    target: targetOf(check),
    ...(check.status === undefined ? {} : { status: check.status }),
    staleAfterMs: staleAfterMs(check),
  };
}

/** What a row shows of a check's health. */
export interface RowHealth {
  status: CheckHealthStatus;
  /** When the status began, epoch ms. */
  sinceMs: number;
  /** Each location's status: the row's dots. */
  locations: Readonly<Record<string, { status: LocationHealthStatus }>>;
  /** The newest result of any location, ISO; null before the first. */
  lastResultAt: string | null;
}

/**
 * A page's summaries packed: row i's health, its bar's segments at [i × segments, (i + 1) ×
 * segments) of `counts` (5 numbers a segment, uptime-bar-model.ts), its p95s at the same
 * segments of `p95Ms` (NaN where a segment has no result). Plain data: a worker sends it as is,
 * the two arrays moved, not copied.
 */
export interface PackedSummaries {
  checkIds: string[];
  health: Array<RowHealth | null>;
  segments: number;
  counts: PackedCounts;
  p95Ms: Float64Array;
  /** Start of the first segment, epoch ms. */
  fromMs: number;
  segmentSeconds: number;
}

export function packSummaries(answer: CheckSummaries): PackedSummaries {
  const rows = answer.summaries;
  // One length for every row of an answer (its range's); a shorter one keeps its zeros and NaNs at the end.
  const segments = rows[0]?.bars.length ?? 0;
  const counts = new Uint32Array(rows.length * segments * 5);
  const p95Ms = new Float64Array(rows.length * segments).fill(Number.NaN);
  rows.forEach((row, index) => {
    const start = index * segments;
    packCounts(row.bars.length > segments ? row.bars.slice(0, segments) : row.bars, counts, start);
    for (let segment = 0; segment < Math.min(segments, row.p95Ms.length); segment++) {
      const ms = row.p95Ms[segment];
      if (ms !== null && ms !== undefined) p95Ms[start + segment] = ms;
    }
  });
  return {
    checkIds: rows.map((row) => row.checkId),
    health: rows.map(({ health }) => health && rowHealth(health)),
    segments,
    counts,
    p95Ms,
    fromMs: Date.parse(answer.from),
    segmentSeconds: answer.segmentSeconds,
  };
}

const rowHealth = (health: NonNullable<CheckSummaries["summaries"][number]["health"]>): RowHealth => ({
  status: health.status,
  sinceMs: Date.parse(health.since),
  locations: Object.fromEntries(Object.entries(health.locations).map(([location, state]) => [location, { status: state.status }])),
  lastResultAt: lastResultAt(health),
});

/** A row's health, uptime bar and sparkline. */
export interface RowSummary {
  health: RowHealth | null;
  /** The bar's segments, oldest first: a view of its page's one array. */
  bars: PackedCounts;
  /** Each segment's p95 latency in ms, NaN where it has no result: a view of its page's one array. */
  p95Ms: Float64Array;
  fromMs: number;
  segmentSeconds: number;
}

/** A page's summaries as the rows read them, by check id. */
export interface PageSummaries {
  byId: ReadonlyMap<string, RowSummary>;
}

export function summariesByRow(packed: PackedSummaries): PageSummaries {
  const { segments, counts, p95Ms, fromMs, segmentSeconds } = packed;
  const byId = new Map<string, RowSummary>();
  packed.checkIds.forEach((checkId, index) => {
    const start = index * segments;
    byId.set(checkId, {
      health: packed.health[index] ?? null,
      bars: counts.subarray(start * 5, (start + segments) * 5),
      p95Ms: p95Ms.subarray(start, start + segments),
      fromMs,
      segmentSeconds,
    });
  });
  return { byId };
}

/** A page of GET /checks?summaries= as the list keeps it: its rows, and its summaries packed. */
export interface SlimPage extends RowPage {
  summaries?: PackedSummaries;
}

export const slimPage = (page: CheckPage): SlimPage => ({
  checks: page.checks.map(rowItem),
  nextCursor: page.nextCursor,
  ...(page.summaries ? { summaries: packSummaries(page.summaries) } : {}),
});

/**
 * For how long after a status change a page's bars may still lag it, and how often the list asks
 * again meanwhile. The bars are rollups, which follow the results by about 2 s (the rollup
 * worker's pass), and the list reads them when the live feed says a status changed: right then
 * they can still miss the results that changed it. The newest cell shows the status anyway
 * (uptime-bar-model.ts `newestTone`); asking again brings the counts, and the availability, too.
 */
export const BARS_CATCH_UP = { withinMs: 60_000, everyMs: 3_000 } as const;

/** Whether a row changed status within BARS_CATCH_UP.withinMs and its newest counted cell does not show that status yet. */
export function barsBehindStatus(summaries: PageSummaries, now: number): boolean {
  for (const { health, bars } of summaries.byId.values()) {
    if (health === null || now - health.sinceMs > BARS_CATCH_UP.withinMs) continue;
    const segments = segmentsIn(bars);
    const counted = toneOf(sumCounts(bars, segments - 1, segments));
    if (segments > 0 && newestTone(counted, health.status) !== counted) return true;
  }
  return false;
}
