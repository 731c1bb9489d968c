// GET /checks/:id/locations through the in-process app: where a check runs, and why a selected
// satellite skips it (its agent has no probe for the type, it never connected, the check is off).
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createCheckLocationRoutes } from "../../../src/checks/api/location-routes.ts";
import type { ListedSatellite } from "../../../src/checks/assignments/check-locations.ts";
import type { CheckStore } from "../../../src/checks/definitions/check-store.ts";

const satellite = (name: string, region: string, capabilities: string[], version: string | null = "1.2.0"): ListedSatellite => ({
  id: randomUUID(),
  name,
  region,
  tags: [],
  capabilities,
  version,
});

// By name, as the registry pages them.
const fleet = [
  satellite("eu-1", "eu", ["http", "dns", "run-on-demand"]),
  satellite("eu-2", "eu", ["http", "run-on-demand", "assignment-parts"], "0.9.0"),
  satellite("eu-3", "eu", [], null),
  satellite("us-1", "us", ["dns"]),
];

function app(check: Record<string, unknown>) {
  const pages: Array<string | undefined> = [];
  const routes = createCheckLocationRoutes({
    store: { get: async () => check } as unknown as Pick<CheckStore, "get">,
    satellites: async ({ limit, after }) => {
      pages.push(after);
      const from = after === undefined ? 0 : fleet.findIndex((s) => s.name === after) + 1;
      return fleet.slice(from, from + limit);
    },
    pageSize: 2,
  });
  return { app: new Hono().route("/checks", routes), pages };
}

const get = async (check: Record<string, unknown>) => {
  const { app: served, pages } = app(check);
  const response = await served.request(`/checks/${randomUUID()}/locations`);
  expect(response.status).toBe(200);
  return { body: (await response.json()) as { core: boolean; satellites: Array<Record<string, unknown>> }, pages };
};

describe("a check's locations", () => {
  it("lists each selected satellite assigned or skipped with why, read page by page", async () => {
    const { body, pages } = await get({ type: "dns", enabled: true, runOn: { core: true, satellites: { regions: ["eu"] } } });
    expect(pages).toEqual([undefined, "eu-2", "us-1"]);
    expect(body.core).toBe(true);
    expect(body.satellites.map(({ name, status, reason }) => ({ name, status, reason }))).toEqual([
      { name: "eu-1", status: "assigned", reason: undefined },
      { name: "eu-2", status: "skipped", reason: "capability_missing" },
      { name: "eu-3", status: "skipped", reason: "never_connected" },
    ]);
    // Says which probes the agent has, without the protocol's own capabilities, and what to do.
    expect(body.satellites[1]!.message).toBe(
      "Its agent (version 0.9.0) announces no dns probe (it runs: http); upgrade the agent or register a dns probe, then reconnect it.",
    );
  });

  it("names no satellite for a check on the core only, and no location at all for a disabled one", async () => {
    expect((await get({ type: "http", enabled: true, runOn: { core: true } })).body).toEqual({ core: true, satellites: [] });
    const { body } = await get({ type: "http", enabled: false, runOn: { core: true, satellites: { ids: [fleet[3]!.id] } } });
    expect(body.core).toBe(false);
    expect(body.satellites).toMatchObject([{ name: "us-1", status: "skipped", reason: "check_disabled" }]);
  });
});
