// The list row's p95 latency sparkline: an inline SVG line over the bar's segments (no chart
// library for 24 points), broken where a segment has no result, scaled to the row's own peak.
import { formatSpan } from "../../../ui/time.ts";

/** SVG path data for the values in a width × height box: one "M…L…" run per stretch without gaps. */
export function sparklinePath(values: ReadonlyArray<number | null>, width: number, height: number): string {
  const peak = Math.max(0, ...values.filter((value): value is number => value !== null));
  if (peak === 0 || values.length === 0) return "";
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = "";
  let drawing = false;
  values.forEach((value, index) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = (index * step).toFixed(1);
    // A 1 px margin so the line's stroke is not clipped at the top or bottom.
    const y = (height - 1 - (value / peak) * (height - 2)).toFixed(1);
    path += `${drawing ? "L" : "M"}${x} ${y}`;
    drawing = true;
  });
  return path;
}

export function Sparkline({ values, width = 72, height = 20 }: { values: ReadonlyArray<number | null>; width?: number; height?: number }) {
  const known = values.filter((value): value is number => value !== null);
  const label = known.length === 0 ? "no latency yet" : `p95 latency, last ${formatSpan(known.at(-1)!)}, peak ${formatSpan(Math.max(...known))}`;
  const path = sparklinePath(values, width, height);
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      {/* One point alone draws nothing as a line: a dot marks it. */}
      {path.includes("L") || path === "" ? <path d={path} /> : <circle cx={path.slice(1).split(" ")[0]} cy={path.split(" ")[1]} r="1.5" />}
    </svg>
  );
}
