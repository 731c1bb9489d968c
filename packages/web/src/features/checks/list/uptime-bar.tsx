// The uptime bar: plain HTML (no chart library), a coloured band per segment in one element's
// background, coloured by what the results in it were; hovering a band reads its availability.
// See uptime-bar-model.ts.
import type { PointerEvent } from "react";
import type { StatusCounts } from "../../../api/client.ts";
import { barCells, type BarCell, type CellTone, cellLabel, formatAvailability, availabilityOf, addCounts } from "./uptime-bar-model.ts";

export interface UptimeBarProps {
  segments: readonly StatusCounts[];
  /** ISO start of the first segment. */
  from: string;
  segmentSeconds: number;
  /** Fold segments so at most this many cells show (a phone's narrow row). */
  maxCells?: number;
  /** "24 h", "90 d": said in the label. */
  span: string;
}

// One formatter for every cell: toLocaleString with options builds a new Intl.DateTimeFormat per
// call, and with two per cell it was most of a list page's render time (bench/ui-checks-list).
const CELL_TIME = new Intl.DateTimeFormat([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const time = (ms: number) => CELL_TIME.format(ms);

/** A cell's width and the gap after it, in CSS pixels. */
const CELL_PX = 5;
const STEP_PX = CELL_PX + 2;
const TONE_COLOR: Record<CellTone, string> = { ok: "var(--ok)", warn: "var(--warn)", bad: "var(--bad)", none: "var(--idle-bg)" };

/**
 * The cells as one element's background: a band of colour per cell with a gap after it. A list
 * row's 24 cells were 24 elements, more than half of a row's, and rows are rendered by the dozen
 * each frame while scrolling, each element styled and laid out (bench/ui-checks-list).
 */
export function barBackground(cells: readonly BarCell[]): string {
  const stops = cells.map((cell, index) => {
    const start = index * STEP_PX;
    return `${TONE_COLOR[cell.tone]} ${start}px ${start + CELL_PX}px, transparent ${start + CELL_PX}px ${start + STEP_PX}px`;
  });
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/**
 * The label of the cell under the pointer, as the bar's tooltip: written when the pointer moves
 * over it, not while rendering (two formatted times a cell, for rows nobody hovers).
 */
function labelUnderPointer(cells: readonly BarCell[]) {
  return (event: PointerEvent<HTMLElement>) => {
    const bar = event.currentTarget;
    const cell = cells[Math.floor((event.clientX - bar.getBoundingClientRect().left) / STEP_PX)];
    const label = cell ? cellLabel(cell, time) : "";
    if (bar.title !== label) bar.title = label;
  };
}

export function UptimeBar({ segments, from, segmentSeconds, maxCells, span }: UptimeBarProps) {
  const cells = barCells(segments, Date.parse(from), segmentSeconds * 1000, maxCells);
  const total = cells.reduce((sum, cell) => addCounts(sum, cell.counts), { total: 0, up: 0, degraded: 0, down: 0, error: 0 });
  const availability = formatAvailability(availabilityOf(total));
  return (
    <span className="uptime" role="img" aria-label={`${span} uptime ${availability}`}>
      <span
        className="uptime-cells"
        style={{ width: cells.length * STEP_PX - (STEP_PX - CELL_PX), backgroundImage: barBackground(cells) }}
        onPointerMove={labelUnderPointer(cells)}
      />
      <span className="uptime-value">{availability}</span>
    </span>
  );
}
