// @vitest-environment happy-dom
// A check's past on its detail screen against a stubbed API: uptime and reachability over the
// range chosen (24 h, 7 d, 90 d: each a request for that range), incidents placed on a
// timeline, the health's history with reasons; and the list's p95 sparkline.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { beforeCreatedSpan, CheckHistory, incidentSpan } from "../src/features/checks/detail/check-history.tsx";
import { Sparkline, sparklinePath } from "../src/features/checks/list/sparkline.tsx";
import { renderScreen, signInForEachTest } from "./support/render-screen.tsx";

const HOUR = 3_600_000;
const now = Date.now();
const UPTIME = {
  checkId: "c1",
  from: new Date(now - 24 * HOUR).toISOString(),
  to: new Date(now).toISOString(),
  uptime: 0.9875,
  durations: { healthyMs: 20 * HOUR, degradedMs: 0, unhealthyMs: 1_800_000, unknownMs: 0, maintenanceMs: 0 },
  reachability: 0.99,
  locations: {},
};
const INCIDENTS = {
  incidents: [
    {
      id: "i1",
      severity: "unhealthy",
      start: new Date(now - 2 * HOUR).toISOString(),
      end: new Date(now - 1.5 * HOUR).toISOString(),
      durationMs: 1_800_000,
      reason: "core: connection refused",
      locations: { core: "unhealthy" },
    },
  ],
  nextCursor: null,
};
const HISTORY = {
  changes: [
    {
      seq: 7,
      changeId: "00000000-0000-4000-8000-000000000007",
      kind: "check-health",
      id: "c1",
      prev: { status: "unhealthy", reason: "core: connection refused" },
      next: { status: "healthy", reason: "all locations up" },
      delta: {},
      changedFields: ["reason", "status"],
      actor: { type: "system", id: "system", name: "Vantage" },
      cause: { type: "api-request", id: "req-12345678-abcd" },
      occurredAt: new Date(now - 1.5 * HOUR).toISOString(),
      caused: { runs: [], skips: [] },
    },
  ],
  next: null,
};

signInForEachTest();

describe("a check's uptime, incidents and history", () => {
  it("shows uptime and reachability, incidents on the timeline and listed, and each health change with its cause", async () => {
    const calls = renderScreen(<CheckHistory checkId="c1" nameOf={(location) => location} />, (call) => {
      if (call.url.startsWith("/api/v1/checks/c1/uptime")) return { status: 200, body: UPTIME };
      if (call.url.startsWith("/api/v1/checks/c1/incidents")) return { status: 200, body: INCIDENTS };
      if (call.url.startsWith("/api/v1/entities/check-health/c1/changes")) return { status: 200, body: HISTORY };
      if (call.url.startsWith("/api/v1/automations")) return { status: 200, body: { automations: [] } };
      return undefined;
    });
    expect((await screen.findByLabelText("Uptime", { selector: "div" })).textContent).toBe("98.75 %");
    expect(screen.getByLabelText("Reachability", { selector: "div" }).textContent).toBe("99.00 %");
    const incidents = await screen.findByRole("list", { name: "Incidents" });
    expect(incidents.textContent).toContain("core: connection refused");
    expect(incidents.textContent).toContain("30 min 0 s");
    expect(screen.getByRole("img", { name: "Incidents over the last 24h: 1" }).querySelectorAll(".timeline-span")).toHaveLength(1);
    const history = await screen.findByRole("list", { name: "Health changes" });
    expect(history.textContent).toMatch(/unhealthy\s*→\s*healthy/);
    expect(history.textContent).toContain("all locations up");
    expect(history.textContent).toContain("cause: API request req-1234");

    // 7 days: the uptime of that range is asked for.
    fireEvent.click(within(screen.getByRole("tablist", { name: "Uptime range" })).getByRole("tab", { name: "7d" }));
    await waitFor(() => {
      const asked = calls.filter((call) => call.url.startsWith("/api/v1/checks/c1/uptime")).map((call) => new URL(call.url, "http://x").searchParams);
      const last = asked.at(-1)!;
      expect(Date.parse(last.get("to")!) - Date.parse(last.get("from")!)).toBe(7 * 24 * HOUR);
    });
  });

  it("greys the timeline before the check existed instead of showing it up", async () => {
    const createdAt = new Date(now - 6 * HOUR).toISOString();
    renderScreen(<CheckHistory checkId="c1" createdAt={createdAt} nameOf={(location) => location} />, (call) => {
      if (call.url.startsWith("/api/v1/checks/c1/uptime")) return { status: 200, body: UPTIME };
      if (call.url.startsWith("/api/v1/checks/c1/incidents")) return { status: 200, body: { incidents: [], nextCursor: null } };
      if (call.url.startsWith("/api/v1/entities/check-health/c1/changes")) return { status: 200, body: { changes: [], next: null } };
      return undefined;
    });
    const timeline = await screen.findByRole("img", { name: /^Incidents over the last 24h: 0; the check was created / });
    const none = timeline.querySelector<HTMLElement>(".timeline-span.none")!;
    // 18 of the range's 24 hours (the range ends at the next whole minute).
    expect(Number.parseFloat(none.style.width)).toBeCloseTo(75, 0);
    expect(none.title).toMatch(/^No data: the check was created /);
  });

  it("knows the part of a range before the check was created", () => {
    expect(beforeCreatedSpan(new Date(25).toISOString(), 0, 100)).toEqual({ width: 25 });
    expect(beforeCreatedSpan(new Date(0).toISOString(), 0, 100)).toBeNull();
    expect(beforeCreatedSpan(new Date(-5).toISOString(), 0, 100)).toBeNull();
    // A check made a moment ago keeps a sliver of its own.
    expect(beforeCreatedSpan(new Date(150).toISOString(), 0, 100)).toEqual({ width: 99.6 });
    expect(beforeCreatedSpan(undefined, 0, 100)).toBeNull();
  });

  it("places an incident on the timeline clipped to the range, an ongoing one until now", () => {
    expect(incidentSpan({ start: new Date(50).toISOString(), end: new Date(75).toISOString() }, 0, 100, 100)).toEqual({ left: 50, width: 25 });
    expect(incidentSpan({ start: new Date(-50).toISOString(), end: new Date(10).toISOString() }, 0, 100, 100)).toEqual({ left: 0, width: 10 });
    expect(incidentSpan({ start: new Date(90).toISOString(), end: null }, 0, 100, 95)).toEqual({ left: 90, width: 5 });
    expect(incidentSpan({ start: new Date(-50).toISOString(), end: new Date(-10).toISOString() }, 0, 100, 100)).toBeNull();
    // A moment at the very end still shows, as a sliver inside the bar.
    expect(incidentSpan({ start: new Date(99_999).toISOString(), end: null }, 0, 100_000, 100_000)).toEqual({ left: 99.6, width: 0.4 });
  });
});

describe("the p95 sparkline", () => {
  it("draws a line scaled to its peak, broken where a segment has no result", () => {
    expect(sparklinePath([10, 20, null, 20], 30, 12)).toBe("M0.0 6.0L10.0 1.0M30.0 1.0");
    expect(sparklinePath([null, null], 30, 12)).toBe("");
    // Packed, as the list keeps them: NaN where a segment has no result.
    expect(sparklinePath(Float64Array.of(10, 20, Number.NaN, 20), 30, 12)).toBe("M0.0 6.0L10.0 1.0M30.0 1.0");
  });

  it("names the latest and peak p95 for screen readers", () => {
    render(<Sparkline values={[120, null, 480, 250]} />);
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("p95 latency, last 250 ms, peak 480 ms");
  });
});
