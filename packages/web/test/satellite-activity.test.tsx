// @vitest-environment happy-dom
// A satellite's detail screen, below its facts, against a stubbed API: the checks it runs (its
// assignments, GET /checks/on-satellite/:id, with the health each has there from
// ?location=<its id>) and its connection history (the
// satellite-connection entity's changes), each edge with what caused it.
import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ConnectionHistory, SatelliteChecks } from "../src/features/satellites/satellite-activity.tsx";
import { renderScreen, signInForEachTest } from "./support/render-screen.tsx";

const SATELLITE = "5a7e0000-0000-4000-8000-000000000001";
const now = Date.now();
const change = (seq: number, prev: object | null, next: object, minutesAgo: number) => ({
  seq,
  changeId: `00000000-0000-4000-8000-00000000000${seq}`,
  kind: "satellite-connection",
  id: SATELLITE,
  prev,
  next,
  delta: {},
  changedFields: ["lastEvent", "status"],
  actor: { type: "satellite", id: SATELLITE, name: null },
  cause: null,
  occurredAt: new Date(now - minutesAgo * 60_000).toISOString(),
  caused: { runs: [], skips: [] },
});

signInForEachTest();

describe("a satellite's activity", () => {
  it("lists the checks its assignments hold, skipped ones with why, with the health each has there", async () => {
    const calls = renderScreen(<SatelliteChecks satelliteId={SATELLITE} />, (call) => {
      if (call.url.startsWith(`/api/v1/checks/on-satellite/${SATELLITE}`))
        return {
          status: 200,
          body: {
            checks: [
              { id: "c1", name: "shop api", type: "http", status: "assigned" },
              { id: "c2", name: "shop port", type: "tcp", status: "skipped", reason: "capability_missing", message: "Its agent announces no tcp probe." },
            ],
          },
        };
      if (call.url.startsWith("/api/v1/checks?"))
        return { status: 200, body: { checks: [{ id: "c1", name: "shop api", type: "http", enabled: true, status: "unhealthy" }], nextCursor: null } };
      return undefined;
    });
    const table = await screen.findByRole("table", { name: "Checks it runs" });
    const rows = table.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(2);
    expect((await screen.findByText("unhealthy")).closest("tr")).toBe(rows[0]);
    expect(rows[0]!.textContent).toContain("assigned");
    expect(rows[1]!.textContent).toContain("skipped: capability missing");
    expect(screen.getByRole("link", { name: "shop api" }).getAttribute("href")).toBe("/checks/c1");
    const observed = calls.find((call) => call.url.startsWith("/api/v1/checks?"))!;
    expect(new URL(observed.url, "http://ui").searchParams.get("location")).toBe(SATELLITE);
  });

  it("says so when no check selects it", async () => {
    renderScreen(<SatelliteChecks satelliteId={SATELLITE} />, (call) =>
      call.url.startsWith("/api/v1/checks") ? { status: 200, body: { checks: [], nextCursor: null } } : undefined,
    );
    await screen.findByText(/No enabled check selects this satellite/);
  });

  it("shows each connection change, newest first, from which status to which and the edge", async () => {
    renderScreen(<ConnectionHistory satelliteId={SATELLITE} />, (call) => {
      if (call.url.startsWith(`/api/v1/entities/satellite-connection/${SATELLITE}/changes`))
        return {
          status: 200,
          body: {
            changes: [
              change(3, { status: "online", lastEvent: "connected" }, { status: "offline", lastEvent: "heartbeat_lost" }, 5),
              change(2, { status: "offline", lastEvent: null }, { status: "online", lastEvent: "connected" }, 60),
            ],
            next: null,
          },
        };
      if (call.url.startsWith("/api/v1/automations")) return { status: 200, body: { automations: [] } };
      return undefined;
    });
    const history = await screen.findByRole("list", { name: "Connection changes" });
    const items = history.querySelectorAll(":scope > li");
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toMatch(/online\s*→\s*offline/);
    expect(items[0]!.textContent).toContain("heartbeat lost");
    expect(items[1]!.textContent).toMatch(/offline\s*→\s*online/);
  });
});
