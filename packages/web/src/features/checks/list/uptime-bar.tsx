// The uptime bar: plain HTML (no chart library), a coloured band per segment in one element's
// background, coloured by what the results in it were; hovering a band reads its availability,
// and its accessible name says the availability and how many periods had failures.
// See uptime-bar-model.ts.
import type { PointerEvent } from "react";
import type { StatusCounts } from "../../../api/client.ts";
import { barCells, type BarCell, type CellTone, cellLabel, formatAvailability, availabilityOf, sumCounts } from "./uptime-bar-model.ts";

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

/** A cell's width and the gap after it, in CSS pixels: finer where there are many cells (a 90 d bar), so both bars take about the same width. */
export interface BarGeometry {
  cellPx: number;
  stepPx: number;
}
const COARSE: BarGeometry = { cellPx: 5, stepPx: 7 };
const FINE: BarGeometry = { cellPx: 4, stepPx: 5 };
export const geometryFor = (cellCount: number): BarGeometry => (cellCount > 24 ? FINE : COARSE);
const TONE_COLOR: Record<CellTone, string> = { ok: "var(--ok)", warn: "var(--warn)", bad: "var(--bad)", none: "var(--idle-bg)" };

/**
 * The cells as one element's background: a band of colour per cell with a gap after it. A list
 * row's 24 cells were 24 elements, more than half of a row's, and rows are rendered by the dozen
 * each frame while scrolling, each element styled and laid out (bench/ui-checks-list).
 */
export function barBackground(cells: readonly BarCell[], { cellPx, stepPx }: BarGeometry = geometryFor(cells.length)): string {
  const stops = cells.map((cell, index) => {
    const start = index * stepPx;
    return `${TONE_COLOR[cell.tone]} ${start}px ${start + cellPx}px, transparent ${start + cellPx}px ${start + stepPx}px`;
  });
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/**
 * The label of the cell under the pointer, as the bar's tooltip: written when the pointer moves
 * over it, not while rendering (two formatted times a cell, for rows nobody hovers).
 */
function labelUnderPointer(cells: readonly BarCell[], stepPx: number) {
  return (event: PointerEvent<HTMLElement>) => {
    const bar = event.currentTarget;
    const cell = cells[Math.floor((event.clientX - bar.getBoundingClientRect().left) / stepPx)];
    const label = cell ? cellLabel(cell, time) : "";
    if (bar.title !== label) bar.title = label;
  };
}

/**
 * What a screen reader says of the bar (its cells are a picture): the availability over its span
 * and in how many of its cells something failed — "24 h uptime 98.91 %, failures in 1 of 12 periods".
 */
export function barLabel(span: string, availability: string, cells: readonly BarCell[]): string {
  const failing = cells.filter((cell) => cell.tone === "bad" || cell.tone === "warn").length;
  return `${span} uptime ${availability}${failing > 0 ? `, failures in ${failing} of ${cells.length} periods` : ""}`;
}

export function UptimeBar({ segments, from, segmentSeconds, maxCells, span }: UptimeBarProps) {
  const cells = barCells(segments, Date.parse(from), segmentSeconds * 1000, maxCells);
  const availability = formatAvailability(availabilityOf(sumCounts(segments)));
  const geometry = geometryFor(cells.length);
  return (
    <span className="uptime" role="img" aria-label={barLabel(span, availability, cells)}>
      <span
        className="uptime-cells"
        style={{ width: cells.length * geometry.stepPx - (geometry.stepPx - geometry.cellPx), backgroundImage: barBackground(cells, geometry) }}
        onPointerMove={labelUnderPointer(cells, geometry.stepPx)}
      />
      <span className="uptime-value">{availability}</span>
    </span>
  );
}
