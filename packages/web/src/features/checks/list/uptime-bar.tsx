// The uptime bar: plain HTML cells (no chart library), one per segment, coloured by what the
// results in it were; hovering a cell reads its availability. See uptime-bar-model.ts.
import type { PointerEvent } from "react";
import type { StatusCounts } from "../../../api/client.ts";
import { barCells, type BarCell, cellLabel, formatAvailability, availabilityOf, addCounts } from "./uptime-bar-model.ts";

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

/**
 * A cell's label is written into its `title` when the pointer first comes over it, not while
 * rendering: a list row has 24 cells, and rows are rendered by the dozen each frame while
 * scrolling, where the labels (two formatted times each) were a long task's worth of work that
 * nobody reads. The tooltip waits for the pointer to rest, so it shows the label set here.
 */
function labelOnHover(cells: readonly BarCell[]) {
  return (event: PointerEvent<HTMLElement>) => {
    const target = event.target as HTMLElement;
    const cell = cells[Number(target.dataset.cell)];
    if (cell && !target.title) target.title = cellLabel(cell, time);
  };
}

export function UptimeBar({ segments, from, segmentSeconds, maxCells, span }: UptimeBarProps) {
  const cells = barCells(segments, Date.parse(from), segmentSeconds * 1000, maxCells);
  const total = segments.reduce(addCounts, { total: 0, up: 0, degraded: 0, down: 0, error: 0 });
  const availability = formatAvailability(availabilityOf(total));
  return (
    <span className="uptime" role="img" aria-label={`${span} uptime ${availability}`}>
      <span className="uptime-cells" onPointerOver={labelOnHover(cells)}>
        {cells.map((cell, index) => (
          <span key={cell.from} className={`cell ${cell.tone}`} data-cell={index} />
        ))}
      </span>
      <span className="uptime-value">{availability}</span>
    </span>
  );
}
