// The gateway as the core wires it: served with the configured heartbeat interval, counted in /metrics, and its satellites handed over on stop.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { type Core, startCore } from "../../../src/main.ts";
import { createSatelliteThroughApi } from "../../support/api/admin-api.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, openFakeSatellite } from "../../support/satellites/fake-satellite.ts";

// The core as main.ts wires it: admin API, gateway, heartbeat buffer and monitor, and the
// shutdown order that says goodbye to satellites before anything else stops.
const ADMIN_TOKEN = "test-admin-token-0123456789";
let databaseUrl: string;
let core: Core;

beforeAll(async () => {
  databaseUrl = (await createTestDatabase()).url;
  core = await startCore(
    { host: "127.0.0.1", port: 0, databaseUrl, dataDir: "/nonexistent", adminToken: ADMIN_TOKEN, heartbeatIntervalMs: 250 },
    silentLogger(),
    { helloTimeoutMs: 500, monitorIntervalMs: 100 },
  );
});

afterAll(async () => {
  await core?.stop();
});

async function row(satelliteId: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query("SELECT last_connection_event, session_id FROM satellites WHERE id = $1", [satelliteId])).rows[0];
  } finally {
    await client.end();
  }
}

describe("the core's satellite wiring", () => {
  it("serves /ws/satellite with the configured heartbeat interval, counts it in /metrics, and on stop sends shutdown {server_shutdown} and hands the satellite over, still connected", async () => {
    const credentials = await createSatelliteThroughApi(core.url, ADMIN_TOKEN, "wired");
    const { satellite, welcome } = await connectFakeSatellite(core.url, credentials);
    expect(welcome.heartbeatIntervalMs).toBe(250);
    satellite.heartbeat();
    expect(core.gateway.isConnected(credentials.satelliteId)).toBe(true);

    const listed = await fetch(`${core.url}/api/v1/satellites/${credentials.satelliteId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await listed.json()).toMatchObject({ status: "online", lastEvent: "connected", instanceId: core.instanceId });
    const metrics = await (await fetch(`${core.url}/metrics`)).text();
    expect(metrics).toMatch(/^vantage_satellite_connections 1$/m);
    expect(metrics).toContain("vantage_satellite_heartbeat_flush_duration_seconds");

    // An upgrade to any other path is answered, not left hanging.
    await expect(openFakeSatellite(core.url, { path: "/ws/other" })).rejects.toThrow("HTTP 404");

    const waiting = await openFakeSatellite(core.url); // not yet authenticated when the core stops
    await core.stop();
    expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "server_shutdown" });
    expect((await satellite.closed).code).toBe(1001);
    expect((await waiting.closed).code).toBe(1001);
    // A handover: no disconnect recorded; the satellite reconnects to any core within its threshold.
    expect(await row(credentials.satelliteId)).toEqual({ last_connection_event: "connected", session_id: welcome.sessionId });
  });
});
