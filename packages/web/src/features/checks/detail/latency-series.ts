// The latency chart's data, pure: a stats answer's per-location series as uPlot's aligned
// columns — one x axis (seconds) shared by every location, and p50 and p95 per location with
// null where a location had no answered run in a point.
import type { CheckStats } from "../../../api/client.ts";

export interface LatencySeries {
  /** Epoch seconds, ascending. */
  x: number[];
  lines: Array<{ location: string; percentile: "p50" | "p95"; values: Array<number | null> }>;
}

export function latencySeries(stats: Pick<CheckStats, "locations">): LatencySeries {
  const times = new Set<number>();
  for (const location of stats.locations) for (const point of location.series) times.add(Date.parse(point.at) / 1000);
  const x = [...times].sort((a, b) => a - b);
  const index = new Map(x.map((time, i) => [time, i]));
  const lines: LatencySeries["lines"] = [];
  for (const location of [...stats.locations].sort((a, b) => a.location.localeCompare(b.location))) {
    for (const percentile of ["p50", "p95"] as const) {
      const values: Array<number | null> = x.map(() => null);
      for (const point of location.series) values[index.get(Date.parse(point.at) / 1000)!] = point[percentile];
      lines.push({ location: location.location, percentile, values });
    }
  }
  return { x, lines };
}
