// The uptime bar's logic, kept pure so it is tested without a DOM: segments of summed result
// counts (GET /checks/summaries) become coloured cells with a label each, folded to fewer cells
// where the screen is narrow, plus the availability over the whole bar. The list keeps a bar's
// counts packed in a typed array (PackedCounts), not as an object a segment.
import type { CheckHealthStatus, StatusCounts } from "../../../api/client.ts";

export type CellTone = "ok" | "warn" | "bad" | "none";

export interface BarCell {
  tone: CellTone;
  /** Start of the cell, epoch ms. */
  from: number;
  to: number;
  /** (up + degraded) / (total − error), null without an observed result (errors say nothing of the target). */
  availability: number | null;
  counts: StatusCounts;
}

/** A cell with this share of down results (or more) reads bad; less, but some, reads warn. */
export const BAD_DOWN_SHARE = 0.05;

/**
 * A bar's segments (oldest first), packed: segment i's total, up, degraded, down and error at
 * [5i … 5i + 4]. The list keeps a bar for every check it loaded (10,000 × 24 segments): as objects
 * they were a quarter of a million that every major garbage collection marked again while
 * scrolling; packed, a page's bars are one array outside the collector's heap (checks-query.ts).
 */
export type PackedCounts = Uint32Array;
const FIELDS = 5;
const [TOTAL, UP, DEGRADED, DOWN, ERROR] = [0, 1, 2, 3, 4] as const;

export const segmentsIn = (packed: PackedCounts): number => packed.length / FIELDS;

/** `segments` packed into `into` from segment `at` on (a new array by default). */
export function packCounts(segments: readonly StatusCounts[], into: PackedCounts = new Uint32Array(segments.length * FIELDS), at = 0): PackedCounts {
  segments.forEach((segment, index) => {
    const base = (at + index) * FIELDS;
    into[base + TOTAL] = segment.total;
    into[base + UP] = segment.up;
    into[base + DEGRADED] = segment.degraded;
    into[base + DOWN] = segment.down;
    into[base + ERROR] = segment.error;
  });
  return into;
}

/**
 * The counts of segments [start, end) summed, into `sum` (a new object by default: a caller that
 * only reads the sum passes one it reuses, so a row's bar makes no object a cell).
 */
export function sumCounts(
  packed: PackedCounts,
  start = 0,
  end = segmentsIn(packed),
  sum: StatusCounts = { total: 0, up: 0, degraded: 0, down: 0, error: 0 },
): StatusCounts {
  sum.total = sum.up = sum.degraded = sum.down = sum.error = 0;
  for (let base = start * FIELDS; base < end * FIELDS; base += FIELDS) {
    sum.total += packed[base + TOTAL]!;
    sum.up += packed[base + UP]!;
    sum.degraded += packed[base + DEGRADED]!;
    sum.down += packed[base + DOWN]!;
    sum.error += packed[base + ERROR]!;
  }
  return sum;
}

export function availabilityOf(counts: StatusCounts): number | null {
  const observed = counts.total - counts.error;
  return observed > 0 ? (counts.up + counts.degraded) / observed : null;
}

/** No observed result: none; only up: ok; down at or above BAD_DOWN_SHARE: bad; any other down or degraded: warn. */
export function toneOf(counts: StatusCounts): CellTone {
  const observed = counts.total - counts.error;
  if (observed <= 0) return "none";
  if (counts.down / observed >= BAD_DOWN_SHARE) return "bad";
  if (counts.down > 0 || counts.degraded > 0) return "warn";
  return "ok";
}

/** ⌈segments / maxCells⌉: how many segments each cell sums so at most `maxCells` show. */
const segmentsPerCell = (segments: number, maxCells: number) => Math.max(1, Math.ceil(segments / Math.max(1, maxCells)));

/**
 * The cells of a bar: `packed`'s segments (oldest first, each `segmentMs` long from `fromMs`)
 * summed in runs of ⌈segments / maxCells⌉ so at most `maxCells` show; the newest cell always ends
 * the bar. With their spans and counts, for a cell's label: built when the pointer is over the bar.
 */
export function barCells(packed: PackedCounts, fromMs: number, segmentMs: number, maxCells = segmentsIn(packed)): BarCell[] {
  const segments = segmentsIn(packed);
  const per = segmentsPerCell(segments, maxCells);
  const cells: BarCell[] = [];
  // Group from the newest end, so a partial group is the oldest cell, never the current one.
  for (let end = segments; end > 0; end -= per) {
    const start = Math.max(0, end - per);
    const counts = sumCounts(packed, start, end);
    cells.unshift({ tone: toneOf(counts), from: fromMs + start * segmentMs, to: fromMs + end * segmentMs, availability: availabilityOf(counts), counts });
  }
  return cells;
}

// One sum reused by every bar's tones: rendering a row allocates no object per cell.
const scratch: StatusCounts = { total: 0, up: 0, degraded: 0, down: 0, error: 0 };

/** The tones of `barCells(packed, …, maxCells)`, oldest first, without building the cells: what a row renders. */
export function barTones(packed: PackedCounts, maxCells = segmentsIn(packed)): CellTone[] {
  const segments = segmentsIn(packed);
  const per = segmentsPerCell(segments, maxCells);
  const tones = new Array<CellTone>(Math.ceil(segments / per));
  let cell = tones.length;
  for (let end = segments; end > 0; end -= per) tones[--cell] = toneOf(sumCounts(packed, Math.max(0, end - per), end, scratch));
  return tones;
}

const TONE_RANK: Record<CellTone, number> = { none: 0, ok: 1, warn: 2, bad: 3 };
const LIVE_TONE: Partial<Record<CheckHealthStatus, CellTone>> = { healthy: "ok", degraded: "warn", unhealthy: "bad" };

/**
 * The newest cell's tone given the check's live status: the worse of the two. The bar's counts
 * come from rollups, which follow the results a few seconds late, and the list asks for them when
 * the status changes — so a check could read "unhealthy" beside a bar whose newest cell was all up
 * until the next time the page's bars were read (a CI screenshot). The newest cell is the one that
 * holds "now", so the status the check has now belongs in it; older cells are history, untouched.
 * `unknown` says nothing of the target and changes nothing.
 */
export function newestTone(counted: CellTone, live: CheckHealthStatus | undefined): CellTone {
  const liveTone = live === undefined ? undefined : LIVE_TONE[live];
  return liveTone !== undefined && TONE_RANK[liveTone] > TONE_RANK[counted] ? liveTone : counted;
}

/** "99.95 %", "100 %", "—": never rounds a failure up to 100 %. */
export function formatAvailability(availability: number | null): string {
  if (availability === null) return "—";
  if (availability >= 1) return "100 %";
  const floored = Math.floor(availability * 10_000) / 100;
  return `${floored.toFixed(2)} %`;
}

/** A cell's label for a tooltip and screen readers: "14:00–15:00: 99.50 % (2 down of 400)". */
export function cellLabel(cell: BarCell, formatTime: (ms: number) => string): string {
  const span = `${formatTime(cell.from)}–${formatTime(cell.to)}`;
  if (cell.tone === "none") return `${span}: no results`;
  const problems = [cell.counts.down ? `${cell.counts.down} down` : "", cell.counts.degraded ? `${cell.counts.degraded} degraded` : ""].filter(Boolean);
  return `${span}: ${formatAvailability(cell.availability)}${problems.length ? ` (${problems.join(", ")} of ${cell.counts.total})` : ""}`;
}

/**
 * The newest cell's label when the live status made it worse than its counts: what was counted
 * so far, and the status now — "14:00–15:00: 100 % so far; now unhealthy (the newest results are not counted yet)".
 */
export function newestCellLabel(cell: BarCell, live: CheckHealthStatus, formatTime: (ms: number) => string): string {
  const counted = cell.tone === "none" ? `${formatTime(cell.from)}–${formatTime(cell.to)}: no results counted yet` : `${cellLabel(cell, formatTime)} so far`;
  return `${counted}; now ${live} (the newest results are not counted yet)`;
}
