// The uptime bar: plain HTML (no chart library), a coloured band per segment in one element's
// background, coloured by what the results in it were (the newest also by the check's live
// status); hovering a band reads its availability, and its accessible name says the availability
// and how many periods had failures. See uptime-bar-model.ts.
import type { PointerEvent } from "react";
import type { CheckHealthStatus } from "../../../api/client.ts";
import {
  availabilityOf,
  barCells,
  barTones,
  type CellTone,
  cellLabel,
  formatAvailability,
  newestCellLabel,
  newestTone,
  type PackedCounts,
  sumCounts,
} from "./uptime-bar-model.ts";

export interface UptimeBarProps {
  /** The segments' counts, oldest first (packed: uptime-bar-model.ts). */
  counts: PackedCounts;
  /** Start of the first segment, epoch ms. */
  fromMs: number;
  segmentSeconds: number;
  /** Fold segments so at most this many cells show (a phone's narrow row). */
  maxCells?: number;
  /** "24 h", "90 d": said in the label. */
  span: string;
  /** The check's status now: the newest cell shows it where its counts (which lag a few seconds) do not yet. */
  live?: CheckHealthStatus;
}

// One formatter for every cell: toLocaleString with options builds a new Intl.DateTimeFormat per
// call, and with two per cell it was most of a list page's render time (bench/ui-checks-list).
const CELL_TIME = new Intl.DateTimeFormat([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const time = (ms: number) => CELL_TIME.format(ms);

/**
 * A cell's width and the gap after it, in CSS pixels: finer where there are many cells (a 90 d
 * bar), so both bars take about the same width. The gaps are the stylesheet's mask (its class).
 */
export interface BarGeometry {
  cellPx: number;
  stepPx: number;
  className: string;
}
const COARSE: BarGeometry = { cellPx: 5, stepPx: 7, className: "uptime-cells" };
const FINE: BarGeometry = { cellPx: 4, stepPx: 5, className: "uptime-cells fine" };
export const geometryFor = (cellCount: number): BarGeometry => (cellCount > 24 ? FINE : COARSE);
const TONE_COLOR: Record<CellTone, string> = { ok: "var(--ok)", warn: "var(--warn)", bad: "var(--bad)", none: "var(--idle-bg)" };

/**
 * The cells as one element's background: a band of colour per run of cells of one tone, the gaps
 * between cells cut by the stylesheet's mask. A list row's 24 cells were 24 elements, more than
 * half of a row's, and rows are rendered by the dozen each frame while scrolling (bench/ui-checks-list);
 * then a band and a gap a cell, written out: 1.7 KB of text a row, the largest thing a scroll
 * allocated (22 MB of the 150 of a scroll, sampled), parsed again by the style engine.
 */
export function barBackground(tones: readonly CellTone[], { stepPx }: Pick<BarGeometry, "stepPx"> = geometryFor(tones.length)): string {
  const stops: string[] = [];
  for (let start = 0; start < tones.length;) {
    let end = start + 1;
    while (end < tones.length && tones[end] === tones[start]) end++;
    stops.push(`${TONE_COLOR[tones[start]!]} ${start * stepPx}px ${end * stepPx}px`);
    start = end;
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/**
 * The label of the cell under the pointer, as the bar's tooltip: written when the pointer moves
 * over it, not while rendering (the cells with their spans and two formatted times a cell, for
 * rows nobody hovers).
 */
function labelUnderPointer({ counts, fromMs, segmentSeconds, maxCells, live }: UptimeBarProps, stepPx: number, liveShown: boolean) {
  return (event: PointerEvent<HTMLElement>) => {
    const bar = event.currentTarget;
    const cells = barCells(counts, fromMs, segmentSeconds * 1000, maxCells);
    const index = Math.floor((event.clientX - bar.getBoundingClientRect().left) / stepPx);
    const cell = cells[index];
    const label = !cell ? "" : liveShown && index === cells.length - 1 ? newestCellLabel(cell, live!, time) : cellLabel(cell, time);
    if (bar.title !== label) bar.title = label;
  };
}

/**
 * What a screen reader says of the bar (its cells are a picture): the availability over its span
 * and in how many of its cells something failed — "24 h uptime 98.91 %, failures in 1 of 12
 * periods" — and the status now when the newest cell shows it ahead of its counts.
 */
export function barLabel(span: string, availability: string, tones: readonly CellTone[], liveNow?: CheckHealthStatus): string {
  const failing = tones.filter((tone) => tone === "bad" || tone === "warn").length;
  const failures = failing > 0 ? `, failures in ${failing} of ${tones.length} periods` : "";
  return `${span} uptime ${availability}${failures}${liveNow ? `, now ${liveNow} (not counted yet)` : ""}`;
}

export function UptimeBar(props: UptimeBarProps) {
  const { counts, maxCells, span, live } = props;
  const tones = barTones(counts, maxCells);
  const counted = tones.at(-1) ?? "none";
  const newest = newestTone(counted, live);
  const liveShown = newest !== counted;
  if (liveShown) tones[tones.length - 1] = newest;
  const availability = formatAvailability(availabilityOf(sumCounts(counts)));
  const geometry = geometryFor(tones.length);
  return (
    <span className="uptime" role="img" aria-label={barLabel(span, availability, tones, liveShown ? live : undefined)}>
      <span
        className={geometry.className}
        style={{ width: tones.length * geometry.stepPx - (geometry.stepPx - geometry.cellPx), backgroundImage: barBackground(tones, geometry) }}
        onPointerMove={labelUnderPointer(props, geometry.stepPx, liveShown)}
      />
      <span className="uptime-value">{availability}</span>
    </span>
  );
}
