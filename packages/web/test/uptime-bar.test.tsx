// @vitest-environment happy-dom
// The uptime bar: segments of result counts become coloured cells (no data, all up, some down
// or degraded, mostly down), folded from the newest end when fewer cells fit, with labels that
// never round a failure up to 100 %; and the component renders one cell per folded segment.
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusCounts } from "../src/api/client.ts";
import { isStale, lastResultAt } from "../src/features/checks/check-freshness.ts";
import { latencySeries } from "../src/features/checks/detail/latency-series.ts";
import { barBackground, UptimeBar } from "../src/features/checks/list/uptime-bar.tsx";
import { barCells, barTones, cellLabel, formatAvailability, newestTone, packCounts, toneOf } from "../src/features/checks/list/uptime-bar-model.ts";

const counts = (up: number, down = 0, degraded = 0, error = 0): StatusCounts => ({ total: up + down + degraded + error, up, down, degraded, error });
const HOUR = 3_600_000;
const FROM = Date.parse("2030-01-01T00:00:00Z");

afterEach(cleanup);

/** A 90 d bar of 90 days with every result up, folded into 30 cells. */
function renderNinetyDaysUp(): ReturnType<typeof render> {
  return render(<UptimeBar counts={packCounts(Array.from({ length: 90 }, () => counts(4)))} fromMs={FROM} segmentSeconds={86_400} maxCells={30} span="90 d" />);
}

describe("a segment's tone", () => {
  it("is none without an observed result (errors say nothing about the target)", () => {
    expect(toneOf(counts(0))).toBe("none");
    expect(toneOf(counts(0, 0, 0, 5))).toBe("none");
  });

  it("is ok only when every observed run was up", () => {
    expect(toneOf(counts(60, 0, 0, 3))).toBe("ok");
  });

  it("is warn for degraded runs or a few down ones, and bad from 5 % down", () => {
    expect(toneOf(counts(59, 0, 1))).toBe("warn");
    expect(toneOf(counts(99, 1))).toBe("warn");
    expect(toneOf(counts(95, 5))).toBe("bad");
    expect(toneOf(counts(0, 1))).toBe("bad");
  });
});

describe("the bar's cells", () => {
  it("keeps one cell per segment when they fit, each with its own span", () => {
    const cells = barCells(packCounts([counts(1), counts(0), counts(1, 1)]), FROM, HOUR);
    expect(cells.map((cell) => cell.tone)).toEqual(["ok", "none", "bad"]);
    expect(cells[2]).toMatchObject({ from: FROM + 2 * HOUR, to: FROM + 3 * HOUR, availability: 0.5 });
  });

  it("folds segments from the newest end, so only the oldest cell may be partial", () => {
    const segments = Array.from({ length: 24 }, (_, i) => (i === 23 ? counts(9, 1) : counts(10)));
    const cells = barCells(packCounts(segments), FROM, HOUR, 10);
    // ⌈24 / 10⌉ = 3 segments a cell: 8 cells, the newest ending the bar.
    expect(cells).toHaveLength(8);
    expect(cells.at(-1)).toMatchObject({ from: FROM + 21 * HOUR, to: FROM + 24 * HOUR, counts: counts(29, 1) });
    expect(cells[0]).toMatchObject({ from: FROM, to: FROM + 3 * HOUR });
    expect(cells.reduce((sum, cell) => sum + cell.counts.total, 0)).toBe(240);
  });

  it("folds a count that does not divide evenly without losing a result", () => {
    const segments = Array.from({ length: 90 }, () => counts(1));
    const cells = barCells(packCounts(segments), FROM, 24 * HOUR, 40);
    expect(cells).toHaveLength(30);
    expect(cells.reduce((sum, cell) => sum + cell.counts.up, 0)).toBe(90);
  });

  it("labels a cell with its span and problems, never rounding a failure up to 100 %", () => {
    expect(formatAvailability(0.99999)).toBe("99.99 %");
    expect(formatAvailability(1)).toBe("100 %");
    expect(formatAvailability(null)).toBe("—");
    const [cell] = barCells(packCounts([counts(398, 2)]), FROM, HOUR);
    expect(cellLabel(cell!, (ms) => new Date(ms).toISOString().slice(11, 16))).toBe("00:00–01:00: 99.50 % (2 down of 400)");
  });
});

describe("the bar's tones and the live status", () => {
  it("tones the cells as barCells does, without building them, however they fold", () => {
    const segments = Array.from({ length: 90 }, (_, i) => (i % 7 === 0 ? counts(9, 1) : i % 11 === 0 ? counts(0) : i % 5 === 0 ? counts(9, 0, 1) : counts(10)));
    for (const maxCells of [90, 40, 30, 24, 15, 12, 7, 1]) {
      expect(barTones(packCounts(segments), maxCells)).toEqual(barCells(packCounts(segments), FROM, HOUR, maxCells).map((cell) => cell.tone));
    }
    expect(barTones(packCounts([]))).toEqual([]);
  });

  it("gives the newest cell the status the check has now where its counts read better", () => {
    expect(newestTone("ok", "unhealthy")).toBe("bad");
    expect(newestTone("none", "unhealthy")).toBe("bad");
    expect(newestTone("ok", "degraded")).toBe("warn");
    expect(newestTone("none", "healthy")).toBe("ok");
    // What was counted stays: a recovered check's newest cell still shows this hour's failures.
    expect(newestTone("bad", "healthy")).toBe("bad");
    expect(newestTone("bad", "degraded")).toBe("bad");
    // Unknown says nothing about the target; no status, nothing to add.
    expect(newestTone("ok", "unknown")).toBe("ok");
    expect(newestTone("none", undefined)).toBe("none");
  });
});

describe("the UptimeBar component", () => {
  /** The tone of each cell, in order: a band of its background (`var(--tone) Apx Bpx`) covers (B − A) / step cells. */
  const bandsOf = (container: HTMLElement) => {
    const bar = container.querySelector<HTMLElement>(".uptime-cells")!;
    const step = bar.classList.contains("fine") ? 5 : 7;
    const colours: Record<string, string> = { "--ok": "ok", "--warn": "warn", "--bad": "bad", "--idle-bg": "none" };
    return [...bar.style.backgroundImage.matchAll(/var\((--[a-z-]+)\) (\d+)px (\d+)px/g)].flatMap((match) =>
      Array<string>((Number(match[3]) - Number(match[2])) / step).fill(colours[match[1]!]!),
    );
  };

  it("renders a cell per folded segment and says the availability over the whole bar", () => {
    const segments = Array.from({ length: 24 }, (_, i) => (i === 0 ? counts(0) : i === 5 ? counts(3, 1) : counts(4)));
    const { container } = render(<UptimeBar counts={packCounts(segments)} fromMs={FROM} segmentSeconds={3600} maxCells={12} span="24 h" />);
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("24 h uptime 98.91 %, failures in 1 of 12 periods");
    expect(bandsOf(container)).toEqual(["ok", "ok", "bad", ...Array(9).fill("ok")]);
  });

  it("says only the availability when nothing failed", () => {
    renderNinetyDaysUp();
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("90 d uptime 100 %");
  });

  it("folds 90 days into narrower cells, so a 90 d bar is about as wide as a 24 h one", () => {
    const { container } = renderNinetyDaysUp();
    const bar = container.querySelector<HTMLElement>(".uptime-cells")!;
    // 30 cells of 3 days, 4 px each with a 1 px gap between.
    expect(bar.style.width).toBe(`${30 * 5 - 1}px`);
    expect(bandsOf(container)).toHaveLength(30);
  });

  it("draws each run of cells of one tone as one band of one element (the stylesheet cuts the gaps)", () => {
    const tones = barTones(packCounts([counts(1), counts(0, 1), counts(0, 1), counts(0), counts(2)]));
    expect(tones).toEqual(["ok", "bad", "bad", "none", "ok"]);
    expect(barBackground(tones)).toBe("linear-gradient(to right, var(--ok) 0px 7px, var(--bad) 7px 21px, var(--idle-bg) 21px 28px, var(--ok) 28px 35px)");
    expect(barBackground(["ok", "ok", "ok"])).toBe("linear-gradient(to right, var(--ok) 0px 21px)");
  });

  it("shows an unhealthy check's newest cell bad before its results are counted, and says so", () => {
    const segments = Array.from({ length: 24 }, () => counts(60));
    const { container } = render(<UptimeBar counts={packCounts(segments)} fromMs={FROM} segmentSeconds={3600} maxCells={24} span="24 h" live="unhealthy" />);
    expect(bandsOf(container)).toEqual([...Array(23).fill("ok"), "bad"]);
    // The availability is what was counted: the down results are not in it yet.
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("24 h uptime 100 %, failures in 1 of 24 periods, now unhealthy (not counted yet)");
    const bar = container.querySelector<HTMLElement>(".uptime-cells")!;
    fireEvent.pointerMove(bar, { clientX: bar.getBoundingClientRect().left + 23 * 7 + 1 });
    expect(bar.title).toMatch(/: 100 % so far; now unhealthy \(the newest results are not counted yet\)$/);
    fireEvent.pointerMove(bar, { clientX: bar.getBoundingClientRect().left + 22 * 7 + 1 });
    expect(bar.title).toMatch(/: 100 %$/);
  });

  it("leaves a healthy check's bar as counted", () => {
    const segments = Array.from({ length: 24 }, (_, i) => (i === 23 ? counts(50, 10) : counts(60)));
    const { container } = render(<UptimeBar counts={packCounts(segments)} fromMs={FROM} segmentSeconds={3600} span="24 h" live="healthy" />);
    expect(bandsOf(container).at(-1)).toBe("bad");
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("24 h uptime 99.30 %, failures in 1 of 24 periods");
  });

  it("labels the cell under the pointer, not while rendering the row", () => {
    const segments = Array.from({ length: 24 }, (_, i) => (i === 5 ? counts(3, 1) : counts(4)));
    const { container } = render(<UptimeBar counts={packCounts(segments)} fromMs={FROM} segmentSeconds={3600} maxCells={12} span="24 h" />);
    const bar = container.querySelector<HTMLElement>(".uptime-cells")!;
    expect(bar.title).toBe("");
    // The third band (7 px a cell and its gap): segments 4 and 5, 7 up and 1 down of 8.
    fireEvent.pointerMove(bar, { clientX: bar.getBoundingClientRect().left + 2 * 7 + 1 });
    expect(bar.title).toMatch(/: 87\.50 % \(1 down of 8\)$/);
    fireEvent.pointerMove(bar, { clientX: bar.getBoundingClientRect().left + 3 * 7 + 1 });
    expect(bar.title).toMatch(/: 100 %$/);
  });
});

describe("freshness and the latency series", () => {
  it("marks a result stale after interval + timeout + grace, and nothing before the first", () => {
    const health = {
      locations: {
        core: { status: "healthy" as const, since: "", lastResultAt: "2030-01-01T00:00:00.000Z" },
        b: { status: "healthy" as const, since: "", lastResultAt: "2030-01-01T00:00:30.000Z" },
      },
    };
    const last = lastResultAt(health);
    expect(last).toBe("2030-01-01T00:00:30.000Z");
    const schedule = { intervalSeconds: 60, timeoutMs: 10_000 };
    expect(isStale(last, schedule, Date.parse(last!) + 100_000)).toBe(false);
    expect(isStale(last, schedule, Date.parse(last!) + 100_001)).toBe(true);
    expect(isStale(null, schedule, Date.now())).toBe(false);
  });

  it("aligns every location's p50 and p95 on one time axis, null where a location has no point", () => {
    const point = (at: string, p50: number) => ({ at, p50, p95: p50 * 2, p99: null, meanMs: null, ...counts(1) });
    const series = latencySeries({
      locations: [
        {
          location: "core",
          counts: counts(2),
          availability: 1,
          latency: { p50: 1, p95: 1, p99: 1, minMs: 1, maxMs: 1, meanMs: 1 },
          series: [point("2030-01-01T00:01:00Z", 10), point("2030-01-01T00:02:00Z", 20)],
        },
        {
          location: "a",
          counts: counts(1),
          availability: 1,
          latency: { p50: 1, p95: 1, p99: 1, minMs: 1, maxMs: 1, meanMs: 1 },
          series: [point("2030-01-01T00:02:00Z", 5)],
        },
      ],
    });
    expect(series.x).toEqual([Date.parse("2030-01-01T00:01:00Z") / 1000, Date.parse("2030-01-01T00:02:00Z") / 1000]);
    expect(series.lines).toEqual([
      { location: "a", percentile: "p50", values: [null, 5] },
      { location: "a", percentile: "p95", values: [null, 10] },
      { location: "core", percentile: "p50", values: [10, 20] },
      { location: "core", percentile: "p95", values: [20, 40] },
    ]);
  });
});
