// The latency chart: p50 (solid) and p95 (dashed) per location on one small uPlot canvas,
// sized to its container and coloured from the theme's variables.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { CheckStats } from "../../../api/client.ts";
import { latencySeries } from "./latency-series.ts";

const PALETTE = ["#2f7de1", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285"];

export function LatencyChart({ stats, nameOf }: { stats: CheckStats; nameOf: (location: string) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const { x, lines } = latencySeries(stats);

  useEffect(() => {
    const element = box.current;
    if (!element || x.length === 0) return;
    const css = getComputedStyle(element);
    const muted = css.getPropertyValue("--muted").trim() || "#888";
    const grid = css.getPropertyValue("--border").trim() || "#ddd";
    const locations = [...new Set(lines.map((line) => line.location))];
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const plot = new uPlot(
      {
        width: element.clientWidth,
        height: 220,
        series: [
          {},
          ...lines.map((line) => ({
            label: `${nameOf(line.location)} ${line.percentile}`,
            stroke: PALETTE[locations.indexOf(line.location) % PALETTE.length],
            width: line.percentile === "p50" ? 2 : 1.5,
            dash: line.percentile === "p95" ? [6, 4] : undefined,
            spanGaps: false,
            // A sparse series (a new check, a long range) shows its points, not invisible segments.
            points: { show: x.length < 60 },
            value: (_: uPlot, value: number | null) => (value === null ? "—" : `${Math.round(value)} ms`),
          })),
        ],
        axes: [axis, { ...axis, size: 70, values: (_: uPlot, ticks: number[]) => ticks.map((tick) => `${tick} ms`) }],
        // The whole range asked for, not just the points there are.
        scales: {
          x: { time: true, range: () => [Date.parse(stats.from) / 1000, Date.parse(stats.to) / 1000] },
          y: { range: (_: uPlot, min: number, max: number) => [0, Math.max(10, max * 1.1 || min)] },
        },
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      [x, ...lines.map((line) => line.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [stats]); // eslint-disable-line react-hooks/exhaustive-deps -- x and lines derive from stats

  if (x.length === 0) return <div className="notice">No results in this range yet (rollups follow results by a few seconds).</div>;
  return <div ref={box} className="latency-chart" role="img" aria-label="Latency p50 and p95 per location" />;
}
