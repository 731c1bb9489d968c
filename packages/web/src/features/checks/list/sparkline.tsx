// The list row's p95 latency sparkline: an inline SVG line over the bar's segments (no chart
// library for 24 points), broken where a segment has no result, scaled to the row's own peak.
// The values come as an array or packed (a typed array, NaN where a segment has no result: the
// list keeps them so, checks-query.ts).
import { formatSpan } from "../../../ui/time.ts";

/** Latencies by segment, oldest first: null or NaN where a segment has no result. */
export type SparklineValues = ArrayLike<number | null>;

const known = (value: number | null | undefined): value is number => value !== null && value !== undefined && !Number.isNaN(value);

/** The highest and the newest known value (null: none known). */
function peakAndLast(values: SparklineValues): { peak: number; last: number } | null {
  let peak = -Infinity;
  let last: number | null = null;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (!known(value)) continue;
    peak = Math.max(peak, value);
    last = value;
  }
  return last === null ? null : { peak, last };
}

// "12.3" for each coordinate in tenths of a pixel, made once: a row's path wrote 48 of them, and
// rows are drawn by the thousand in a scroll (11 MB of a scroll's allocations, sampled).
const tenthsText = new Map<number, string>();
function fixed1(value: number): string {
  const tenths = Math.round(value * 10);
  let text = tenthsText.get(tenths);
  if (text === undefined) tenthsText.set(tenths, (text = (tenths / 10).toFixed(1)));
  return text;
}

/** SVG path data for the values in a width × height box: one "M…L…" run per stretch without gaps. */
export function sparklinePath(values: SparklineValues, width: number, height: number): string {
  const peak = Math.max(0, peakAndLast(values)?.peak ?? 0);
  if (peak === 0 || values.length === 0) return "";
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = "";
  let drawing = false;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (!known(value)) {
      drawing = false;
      continue;
    }
    const x = fixed1(index * step);
    // A 1 px margin so the line's stroke is not clipped at the top or bottom.
    const y = fixed1(height - 1 - (value / peak) * (height - 2));
    path += `${drawing ? "L" : "M"}${x} ${y}`;
    drawing = true;
  }
  return path;
}

export function Sparkline({ values, width = 72, height = 20 }: { values: SparklineValues; width?: number; height?: number }) {
  const seen = peakAndLast(values);
  const label = seen === null ? "no latency yet" : `p95 latency, last ${formatSpan(seen.last)}, peak ${formatSpan(seen.peak)}`;
  const path = sparklinePath(values, width, height);
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      {/* One point alone draws nothing as a line: a dot marks it. */}
      {path.includes("L") || path === "" ? <path d={path} /> : <circle cx={path.slice(1).split(" ")[0]} cy={path.split(" ")[1]} r="1.5" />}
    </svg>
  );
}
