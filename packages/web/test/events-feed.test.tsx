// @vitest-environment happy-dom
// The Overview's latest events against a stubbed API: newest first from GET /changes/latest of
// check-health and satellite-connection, each with its status change, reason, actor and the
// automation runs and skips it caused (by the automation's name, linked to the run's trace).
import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { EventsFeed } from "../src/features/overview/events-feed.tsx";
import { renderScreen, signInForEachTest } from "./support/render-screen.tsx";

const SYSTEM = { type: "system", id: "system", name: "Vantage" };
const change = (seq: number, fields: Record<string, unknown>) => ({
  seq,
  changeId: `00000000-0000-4000-8000-00000000000${seq}`,
  delta: {},
  changedFields: ["status"],
  actor: SYSTEM,
  cause: null,
  occurredAt: new Date(Date.now() - seq * 60_000).toISOString(),
  caused: { runs: [], skips: [] },
  ...fields,
});

const FEED = {
  changes: [
    change(2, {
      kind: "check-health",
      id: "c1",
      prev: { status: "healthy", name: "local web", reason: "all locations up" },
      next: { status: "unhealthy", name: "local web", reason: "core: connection refused" },
      caused: {
        runs: [{ id: "r1", automationId: "a1", triggerId: "t", event: "check.unhealthy", createdAt: "2030-01-01T00:00:00Z", status: "succeeded" }],
        skips: [{ id: "s1", automationId: "a2", triggerId: "t", event: "check.unhealthy", createdAt: "2030-01-01T00:00:00Z", reason: "condition_false" }],
      },
    }),
    change(1, {
      kind: "satellite-connection",
      id: "s1",
      prev: { status: "offline", name: "fra-1", lastEvent: "heartbeat_lost" },
      next: { status: "online", name: "fra-1", lastEvent: "connected" },
      actor: { type: "satellite", id: "s1" },
    }),
  ],
  next: null,
};
const AUTOMATIONS = {
  automations: [
    { id: "a1", name: "page on-call" },
    { id: "a2", name: "restart api" },
  ],
};

signInForEachTest();

describe("the latest events", () => {
  it("lists health and connection changes newest first, with the automations each fired or skipped", async () => {
    const calls = renderScreen(<EventsFeed />, (call) => {
      if (call.url.startsWith("/api/v1/changes/latest")) return { status: 200, body: FEED };
      if (call.url.startsWith("/api/v1/automations")) return { status: 200, body: AUTOMATIONS };
      return undefined;
    });
    const list = await screen.findByRole("list", { name: "Latest events" });
    const items = within(list)
      .getAllByRole("listitem")
      .filter((item) => item.parentElement === list);
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toContain("local web");
    expect(items[0]!.textContent).toMatch(/healthy\s*→\s*unhealthy/);
    expect(items[0]!.textContent).toContain("core: connection refused");
    const fired = await within(items[0]!).findByRole("link", { name: "page on-call" });
    expect(fired.getAttribute("href")).toBe("/automations/a1/runs/r1");
    expect(items[0]!.textContent).toContain("skipped restart api (condition false)");
    expect(within(items[0]!).getByRole("link", { name: "local web" }).getAttribute("href")).toBe("/checks/c1");
    expect(items[1]!.textContent).toMatch(/offline\s*→\s*online/);
    expect(items[1]!.textContent).toContain("by satellite fra-1");
    expect(items[1]!.textContent).not.toContain("by satellite s1");
    const asked = new URL(calls.find((call) => call.url.startsWith("/api/v1/changes/latest"))!.url, "http://x");
    expect(asked.searchParams.get("kind")).toBe("check-health,satellite-connection");
  });

  it("says so when nothing has happened yet", async () => {
    renderScreen(<EventsFeed />, (call) =>
      call.url.startsWith("/api/v1/changes/latest") ? { status: 200, body: { changes: [], next: null } } : { status: 200, body: { automations: [] } },
    );
    await screen.findByText("Nothing has happened yet.");
  });
});
