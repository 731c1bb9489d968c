// The uptime bar's logic, kept pure so it is tested without a DOM: segments of summed result
// counts (GET /checks/summaries) become coloured cells with a label each, folded to fewer cells
// where the screen is narrow, plus the availability over the whole bar.
import type { StatusCounts } from "../../../api/client.ts";

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
 * The counts of `segments[start, end)` summed into one new object. Every row scrolled into view
 * sums its bar's segments twice (cells, then the whole bar): a slice and an object a segment made
 * about 100 short-lived objects a row, garbage for the collector while scrolling.
 */
export function sumCounts(segments: readonly StatusCounts[], start = 0, end = segments.length): StatusCounts {
  const sum: StatusCounts = { total: 0, up: 0, degraded: 0, down: 0, error: 0 };
  for (let index = start; index < end; index++) {
    const segment = segments[index]!;
    sum.total += segment.total;
    sum.up += segment.up;
    sum.degraded += segment.degraded;
    sum.down += segment.down;
    sum.error += segment.error;
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

/**
 * The cells of a bar: `segments` (oldest first, each `segmentMs` long from `fromMs`) summed in
 * runs of ⌈segments / maxCells⌉ so at most `maxCells` cells show; the newest cell always ends the bar.
 */
export function barCells(segments: readonly StatusCounts[], fromMs: number, segmentMs: number, maxCells = segments.length): BarCell[] {
  if (segments.length === 0) return [];
  const per = Math.max(1, Math.ceil(segments.length / Math.max(1, maxCells)));
  const cells: BarCell[] = [];
  // Group from the newest end, so a partial group is the oldest cell, never the current one.
  for (let end = segments.length; end > 0; end -= per) {
    const start = Math.max(0, end - per);
    const counts = sumCounts(segments, start, end);
    cells.unshift({ tone: toneOf(counts), from: fromMs + start * segmentMs, to: fromMs + end * segmentMs, availability: availabilityOf(counts), counts });
  }
  return cells;
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
