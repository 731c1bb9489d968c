// The satellites API: create (token shown once), list, patch, rotate the token, delete, with errors at their paths.
import { randomUUID } from "node:crypto";
import { HEARTBEAT_INTERVAL_MS, OFFLINE_THRESHOLD_MS, SATELLITE_TOKEN_PATTERN } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hono } from "hono";
import { ADMIN_ACTOR } from "../../../src/auth/index.ts";
import { SatelliteRegistry, SatelliteService, createSatelliteRoutes } from "../../../src/satellites/index.ts";
import { MAX_OFFLINE_THRESHOLD_MS, type SatelliteView } from "../../../src/satellites/registry/registry.ts";
import { SATELLITE_REVOKED_CHANNEL, type SatelliteRevocation } from "../../../src/satellites/registry/revocations.ts";
import { type Answer, callApi, createApiApp } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, startTestInstance, type TestInstance, waitFor } from "../../support/instance.ts";

const START = Date.parse("2025-01-01T12:00:00.000Z");
let clock = START;

let instance: TestInstance;
let satellites: SatelliteService;
let registry: SatelliteRegistry;
let app: Hono;
const revocations: SatelliteRevocation[] = [];
const revoked = createSignal();
let unsubscribe: () => Promise<void>;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  instance = await startTestInstance(url, "registry-api");
  satellites = new SatelliteService({ pool: instance.pool, entities: instance.entities, now: () => clock });
  registry = new SatelliteRegistry({ pool: instance.pool, satellites, now: () => clock });
  app = await createApiApp(instance.pool, { "/satellites": createSatelliteRoutes({ registry, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS }) });
  unsubscribe = await instance.hub.subscribe(SATELLITE_REVOKED_CHANNEL, (payload) => {
    revocations.push(JSON.parse(payload) as SatelliteRevocation);
    revoked.emit();
  });
});

afterAll(async () => {
  await unsubscribe?.();
  await instance?.stop();
});

const call = <Body = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string | null) =>
  callApi<Body>(app, method, `/api/v1/satellites${path}`, body, token);

let created = 0;
async function createSatellite(fields: Record<string, unknown> = {}): Promise<SatelliteView & { token: string }> {
  created += 1;
  const answer = await call<SatelliteView & { token: string }>("POST", "", { name: `sat-${created}`, region: "eu-west", ...fields });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

async function changesOf(id: string) {
  const { rows } = await instance.pool.query<{ prev: unknown; next: unknown; changed_fields: string[]; actor: unknown }>(
    "SELECT prev, next, changed_fields, actor FROM entity_changes WHERE kind = 'satellite-connection' AND entity_id = $1 ORDER BY seq",
    [id],
  );
  return rows;
}

const waitForRevocation = (satelliteId: string, reason: SatelliteRevocation["reason"]) =>
  waitFor(() => revocations.some((r) => r.satelliteId === satelliteId && r.reason === reason), revoked.subscribe, 5_000, `revocation of ${satelliteId}`);

const issuePaths = (answer: Answer) => (answer.body.error as { details: { issues: Array<{ path: string }> } }).details.issues.map((issue) => issue.path);

describe("authentication", () => {
  it("answers 401 without a token and with a wrong one, creating nothing", async () => {
    expect((await call("GET", "", undefined, null)).status).toBe(401);
    const wrong = await call("POST", "", { name: "intruder", region: "eu" }, "wrong-token-0123456789");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: { code: "unauthorized" } });
    const { rows } = await instance.pool.query("SELECT 1 FROM satellites WHERE name = 'intruder'");
    expect(rows).toEqual([]);
  });
});

describe("POST /api/v1/satellites", () => {
  it("creates a satellite and shows its token once, never in list or get", async () => {
    const answer = await call<SatelliteView & { token: string }>("POST", "", { name: "  edge-1 ", region: "eu-west", tags: ["lab", "ipv6"] });

    expect(answer.status).toBe(201);
    const { token, ...satellite } = answer.body;
    expect(token).toMatch(SATELLITE_TOKEN_PATTERN);
    expect(satellite).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "edge-1",
      region: "eu-west",
      tags: ["lab", "ipv6"],
      offlineThresholdMs: null,
      effectiveOfflineThresholdMs: OFFLINE_THRESHOLD_MS,
      status: "offline",
      lastSeenAt: null,
      lastEvent: null,
      lastEventAt: null,
      version: null,
      capabilities: [],
      instanceId: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const one = await call("GET", `/${satellite.id}`);
    const all = await call<{ satellites: SatelliteView[] }>("GET", "");
    expect(one.body).toEqual(satellite);
    expect(all.body.satellites).toContainEqual(satellite);
    for (const text of [one.text, all.text]) {
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/token|scrypt/i);
    }
    expect(await registry.verifyCredentials(satellite.id, token)).toMatchObject({ id: satellite.id, name: "edge-1", region: "eu-west" });
  });

  it("lists satellites by name a page at a time, and refuses a bad page size", async () => {
    for (const name of ["page-c", "page-a", "page-b"]) await createSatellite({ name });
    const names: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const answer: Answer<{ satellites: SatelliteView[]; next: string | null }> = await call(
        "GET",
        `?limit=2${after ? `&after=${encodeURIComponent(after)}` : ""}`,
      );
      expect(answer.status).toBe(200);
      expect(answer.body.satellites.length).toBeLessThanOrEqual(2);
      names.push(...answer.body.satellites.map((satellite) => satellite.name));
      after = answer.body.next;
      pages += 1;
    } while (after);
    const all = (await call<{ satellites: SatelliteView[]; next: string | null }>("GET", "")).body;
    expect(all.next).toBeNull();
    expect(names).toEqual(all.satellites.map((satellite) => satellite.name));
    expect(names).toEqual(expect.arrayContaining(["page-a", "page-b", "page-c"]));
    expect(pages).toBe(Math.ceil(names.length / 2) + (names.length % 2 === 0 ? 1 : 0));
    const refused = await call("GET", "?limit=0");
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "invalid_query", details: { issues: [{ path: "limit" }] } } });
  });

  it("lists every invalid field by its path", async () => {
    const answer = await call("POST", "", { name: "", tags: ["ok", ""], offlineThresholdMs: 10, colour: "red" });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "invalid_input", message: expect.stringContaining("offlineThresholdMs") } });
    expect(issuePaths(answer).sort()).toEqual(["colour", "name", "offlineThresholdMs", "region", "tags.1"]);
  });

  it("answers a body that is not JSON with 400", async () => {
    const answer = await call("POST", "", "{ name: ");
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "invalid_input" } });
  });

  it("accepts thresholds from one heartbeat interval up to 24 hours, and nothing outside", async () => {
    const threshold = async (offlineThresholdMs: unknown) => {
      created += 1;
      return call("POST", "", { name: `bounds-${created}`, region: "eu", offlineThresholdMs });
    };
    for (const ok of [HEARTBEAT_INTERVAL_MS, MAX_OFFLINE_THRESHOLD_MS, null]) expect((await threshold(ok)).status, String(ok)).toBe(201);
    for (const bad of [HEARTBEAT_INTERVAL_MS - 1, MAX_OFFLINE_THRESHOLD_MS + 1, 20_000.5, "20000", 0]) {
      const answer = await threshold(bad);
      expect(answer.status, String(bad)).toBe(400);
      expect(issuePaths(answer)).toEqual(["offlineThresholdMs"]);
    }
  });

  it("refuses a second satellite with the same name with 409", async () => {
    await createSatellite({ name: "twin" });
    const answer = await call("POST", "", { name: "twin", region: "us-east" });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: "satellite_name_taken" } });
  });
});

describe("GET /api/v1/satellites", () => {
  it("shows presence computed now from the heartbeat and the satellite's own threshold", async () => {
    const plain = await createSatellite();
    const patient = await createSatellite({ offlineThresholdMs: 120_000 });
    const sessionId = randomUUID();
    await satellites.markConnected({ satelliteId: plain.id, sessionId, version: "1.4.0", capabilities: ["http", "tcp"] });
    await satellites.markConnected({ satelliteId: patient.id, sessionId: randomUUID() });
    const connectedAt = new Date(clock).toISOString();

    const byId = async () => new Map((await call<{ satellites: SatelliteView[] }>("GET", "")).body.satellites.map((s) => [s.id, s]));
    expect((await byId()).get(plain.id)).toMatchObject({
      status: "online",
      lastEvent: "connected",
      lastSeenAt: connectedAt,
      version: "1.4.0",
      capabilities: ["http", "tcp"],
    });

    clock += OFFLINE_THRESHOLD_MS + 1;
    const later = await byId();
    // No monitor ran: the row still says connected, and the list reads it offline anyway.
    expect(later.get(plain.id)).toMatchObject({ status: "offline", lastEvent: "connected" });
    expect(later.get(patient.id)).toMatchObject({ status: "online", effectiveOfflineThresholdMs: 120_000 });
  });

  it("shows when the last connection edge was recorded: an offline satellite says since when", async () => {
    const satellite = await createSatellite();
    const view = async () => (await call<SatelliteView>("GET", `/${satellite.id}`)).body;
    expect(await view()).toMatchObject({ lastEvent: null, lastEventAt: null });

    const sessionId = randomUUID();
    await satellites.markConnected({ satelliteId: satellite.id, sessionId });
    const connectedAt = new Date(clock).toISOString();
    expect(await view()).toMatchObject({ lastEvent: "connected", lastEventAt: connectedAt });

    // The same satellite back on another socket while online (a core's handover): no edge, no new time.
    clock += 1_000;
    const handedOver = randomUUID();
    await satellites.markConnected({ satelliteId: satellite.id, sessionId: handedOver });
    expect(await view()).toMatchObject({ lastEvent: "connected", lastEventAt: connectedAt });

    clock += 5_000;
    await satellites.markDisconnected({ satelliteId: satellite.id, sessionId: handedOver });
    const disconnectedAt = new Date(clock).toISOString();
    // The heartbeat is gone with the connection; the moment it went away is not.
    expect(await view()).toMatchObject({ status: "offline", lastEvent: "disconnected", lastSeenAt: null, lastEventAt: disconnectedAt });

    clock += 5_000;
    await satellites.markConnected({ satelliteId: satellite.id, sessionId: randomUUID() });
    clock += OFFLINE_THRESHOLD_MS + 1;
    await satellites.markHeartbeatLostMany({ satelliteIds: [satellite.id] });
    expect(await view()).toMatchObject({ lastEvent: "heartbeat_lost", lastEventAt: new Date(clock).toISOString() });
  });

  it("shows which core instance holds the socket", async () => {
    const satellite = await createSatellite();
    await instance.pool.query("UPDATE satellites SET connected_instance_id = 'core-7' WHERE id = $1", [satellite.id]);
    expect((await call("GET", `/${satellite.id}`)).body).toMatchObject({ instanceId: "core-7" });
  });
});

describe("PATCH /api/v1/satellites/:id", () => {
  it("renames a connected satellite as a recorded change by the admin that fires no trigger", async () => {
    const satellite = await createSatellite();
    await satellites.markConnected({ satelliteId: satellite.id, sessionId: randomUUID() });

    const answer = await call("PATCH", `/${satellite.id}`, { name: "renamed-edge", region: "ap-south", tags: ["moved"] });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: satellite.id, name: "renamed-edge", region: "ap-south", tags: ["moved"], status: "online" });
    const changes = await changesOf(satellite.id);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ changed_fields: ["name", "region"], actor: ADMIN_ACTOR, next: { name: "renamed-edge", lastEvent: "connected" } });
    const [rename] = await satellites.connection.history(satellite.id, { limit: 1 });
    expect(rename).toMatchObject({ changedFields: ["name", "region"], actor: ADMIN_ACTOR });
    expect(instance.entities.deriveEvents(rename!)).toEqual([]);
  });

  it("moves the expiry with the threshold, so the monitor and the list agree", async () => {
    const satellite = await createSatellite();
    await satellites.markConnected({ satelliteId: satellite.id, sessionId: randomUUID() });
    const heartbeat = clock;
    const offlineAt = async () =>
      (await instance.pool.query<{ offline_at: Date | null }>("SELECT offline_at FROM satellites WHERE id = $1", [satellite.id])).rows[0]!.offline_at;

    clock += 20_000;
    const shorter = await call("PATCH", `/${satellite.id}`, { offlineThresholdMs: HEARTBEAT_INTERVAL_MS });
    expect(shorter.body).toMatchObject({ offlineThresholdMs: HEARTBEAT_INTERVAL_MS, status: "offline" });
    expect(await offlineAt()).toEqual(new Date(heartbeat + HEARTBEAT_INTERVAL_MS));
    expect(await satellites.findExpired({ limit: 100 })).toContain(satellite.id);

    const reset = await call("PATCH", `/${satellite.id}`, { offlineThresholdMs: null });
    expect(reset.body).toMatchObject({ offlineThresholdMs: null, effectiveOfflineThresholdMs: OFFLINE_THRESHOLD_MS, status: "online" });
    expect(await offlineAt()).toEqual(new Date(heartbeat + OFFLINE_THRESHOLD_MS));
    expect(await satellites.findExpired({ limit: 100 })).not.toContain(satellite.id);
  });

  it("changes the threshold of a satellite that never connected without inventing an expiry", async () => {
    const satellite = await createSatellite();
    const answer = await call("PATCH", `/${satellite.id}`, { offlineThresholdMs: 60_000 });
    expect(answer.body).toMatchObject({ offlineThresholdMs: 60_000, status: "offline", lastEvent: null });
    expect(await changesOf(satellite.id)).toEqual([]);
  });

  it("validates like create and refuses a taken name with 409", async () => {
    const satellite = await createSatellite();
    const other = await createSatellite();
    const invalid = await call("PATCH", `/${satellite.id}`, { offlineThresholdMs: MAX_OFFLINE_THRESHOLD_MS + 1, region: "" });
    expect(invalid.status).toBe(400);
    expect(issuePaths(invalid).sort()).toEqual(["offlineThresholdMs", "region"]);
    const taken = await call("PATCH", `/${satellite.id}`, { name: other.name });
    expect(taken.status).toBe(409);
    expect((await call("GET", `/${satellite.id}`)).body).toMatchObject({ name: satellite.name });
  });
});

describe("POST /api/v1/satellites/:id/rotate-token", () => {
  it("issues a new token, invalidates the old one at once and tells every core to close the socket", async () => {
    const satellite = await createSatellite();

    const answer = await call<{ id: string; token: string }>("POST", `/${satellite.id}/rotate-token`);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: satellite.id, token: expect.stringMatching(SATELLITE_TOKEN_PATTERN) });
    expect(answer.body.token).not.toBe(satellite.token);
    expect(await registry.verifyCredentials(satellite.id, satellite.token)).toBeNull();
    expect(await registry.verifyCredentials(satellite.id, answer.body.token)).toMatchObject({ id: satellite.id, name: satellite.name });
    await waitForRevocation(satellite.id, "token_rotated");
  });
});

describe("DELETE /api/v1/satellites/:id", () => {
  it("tombstones a satellite that has connection state and closes its socket", async () => {
    const satellite = await createSatellite();
    await satellites.markConnected({ satelliteId: satellite.id, sessionId: randomUUID() });

    const answer = await call("DELETE", `/${satellite.id}`);

    expect(answer.status).toBe(204);
    expect(answer.text).toBe("");
    const changes = await changesOf(satellite.id);
    expect(changes.at(-1)).toMatchObject({ prev: { lastEvent: "connected" }, next: null, actor: ADMIN_ACTOR });
    expect((await call("GET", `/${satellite.id}`)).status).toBe(404);
    expect(await registry.verifyCredentials(satellite.id, satellite.token)).toBeNull();
    await waitForRevocation(satellite.id, "deleted");
  });

  it("deletes a satellite that never connected without recording a change", async () => {
    const satellite = await createSatellite();
    expect((await call("DELETE", `/${satellite.id}`)).status).toBe(204);
    expect(await changesOf(satellite.id)).toEqual([]);
    expect((await call("DELETE", `/${satellite.id}`)).status).toBe(404);
    await waitForRevocation(satellite.id, "deleted");
  });
});

describe("unknown satellites", () => {
  it.each([randomUUID(), "not-a-uuid", randomUUID().toUpperCase()])("answers 404 for %s on every route", async (id) => {
    const answers = [
      await call("GET", `/${id}`),
      await call("PATCH", `/${id}`, { region: "nowhere" }),
      await call("POST", `/${id}/rotate-token`),
      await call("DELETE", `/${id}`),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "satellite_not_found" } });
    }
  });

  it("sends no revocation for a rotation or delete that changed nothing", async () => {
    const unknown = randomUUID();
    await call("POST", `/${unknown}/rotate-token`);
    await call("DELETE", `/${unknown}`);
    // NOTIFYs arrive in commit order on one connection: once a later one is in, an earlier one would be too.
    const marker = await createSatellite();
    await call("DELETE", `/${marker.id}`);
    await waitForRevocation(marker.id, "deleted");
    expect(revocations.filter((r) => r.satelliteId === unknown)).toEqual([]);
  });
});
