// GET /checks/:id/locations through the in-process app: where a check runs, and why a selected
// satellite skips it (its agent has no probe for the type, it never connected, the check is off);
// and GET /checks/on-satellite/:id, the same rule from a satellite's side, over real PostgreSQL.
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckLocationRoutes } from "../../../src/checks/api/location-routes.ts";
import type { ListedSatellite } from "../../../src/checks/assignments/check-locations.ts";
import type { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { VantageError } from "../../../src/errors.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createResultsDatabase } from "../../support/checks/check-results.ts";

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
    satellite: async () => fleet[0]!,
    pool: { query: async () => ({ rows: [] }) } as unknown as pg.Pool,
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

describe("a satellite's checks", () => {
  let pool: pg.Pool;
  let app: Hono;
  const eu1 = fleet[0]!;

  /** A check as the table holds it: only what the rule reads matters here. */
  const insertCheck = (name: string, type: string, selector: object, enabled = true) =>
    pool.query(
      `INSERT INTO checks (id, name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
       VALUES ($1, $2, $3, $4, 60, 10000, '{}', false, $5::jsonb, $6::jsonb)`,
      [randomUUID(), name, type, enabled, JSON.stringify(selector), JSON.stringify({ name, type, runOn: { satellites: selector } })],
    );

  beforeAll(async () => {
    pool = await createResultsDatabase("location-routes");
    await insertCheck("a http in eu", "http", { regions: ["eu"] });
    await insertCheck("b tcp in eu", "tcp", { regions: ["eu"] });
    await insertCheck("c http in us", "http", { regions: ["us"] });
    await insertCheck("d dns by id", "dns", { ids: [eu1.id] });
    await insertCheck("e http in eu, disabled", "http", { regions: ["eu"] }, false);
    const routes = createCheckLocationRoutes({
      store: { get: async () => ({}) } as unknown as Pick<CheckStore, "get">,
      satellites: async () => fleet,
      satellite: async (id) => {
        const found = fleet.find((satellite) => satellite.id === id);
        if (!found) throw new VantageError("not_found", "satellite_not_found", `No satellite has the id ${id}.`);
        return found;
      },
      pool,
    });
    app = await createApiApp(pool, { "/checks": routes });
  });
  afterAll(async () => {
    await pool?.end();
  });

  it("lists every enabled check its runOn selects, by name, assigned or skipped with why", async () => {
    const { status, body } = await callApi<{ checks: Array<Record<string, unknown>> }>(app, "GET", `/api/v1/checks/on-satellite/${eu1.id}`);
    expect(status).toBe(200);
    expect(body.checks.map(({ name, status, reason }) => ({ name, status, reason }))).toEqual([
      { name: "a http in eu", status: "assigned", reason: undefined },
      { name: "b tcp in eu", status: "skipped", reason: "capability_missing" },
      { name: "d dns by id", status: "assigned", reason: undefined },
    ]);
  });

  it("does not list a check whose runOn selects other satellites", async () => {
    const us1 = fleet[3]!;
    const { body } = await callApi<{ checks: Array<{ name: string }> }>(app, "GET", `/api/v1/checks/on-satellite/${us1.id}`);
    expect(body.checks.map((check) => check.name)).toEqual(["c http in us"]);
  });

  it("answers an unknown or malformed satellite id with 404 satellite_not_found", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const { status, body } = await callApi<{ error: { code: string } }>(app, "GET", `/api/v1/checks/on-satellite/${id}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe("satellite_not_found");
    }
  });
});
