// The uptime bar: plain HTML cells (no chart library), one per segment, coloured by what the
// results in it were; hover or focus reads each cell's availability. See uptime-bar-model.ts.
import type { StatusCounts } from "../../../api/client.ts";
import { barCells, cellLabel, formatAvailability, availabilityOf, addCounts } from "./uptime-bar-model.ts";

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

export function UptimeBar({ segments, from, segmentSeconds, maxCells, span }: UptimeBarProps) {
  const cells = barCells(segments, Date.parse(from), segmentSeconds * 1000, maxCells);
  const total = segments.reduce(addCounts, { total: 0, up: 0, degraded: 0, down: 0, error: 0 });
  const availability = formatAvailability(availabilityOf(total));
  return (
    <span className="uptime" role="img" aria-label={`${span} uptime ${availability}`}>
      <span className="uptime-cells">
        {cells.map((cell) => (
          <span key={cell.from} className={`cell ${cell.tone}`} title={cellLabel(cell, time)} />
        ))}
      </span>
      <span className="uptime-value">{availability}</span>
    </span>
  );
}
