// The satellite gateway over a real WebSocket: welcome and edges, bad credentials and frames refused, results acknowledged, revocations.
import { randomUUID } from "node:crypto";
import { type Assignment, MAX_FRAME_BYTES, RESEND_MARK_CAPABILITY, type ResultFrame } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite, openFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { collectRouted, type RoutedChanges } from "../../support/entities/routed-changes.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

let core: SatelliteCore;
let routed: RoutedChanges;
const assignments = new Map<string, Assignment[]>();
const stored: Array<{ satelliteId: string; result: ResultFrame }> = [];
let failStores = false;

const check = (checkId: string): Assignment => ({
  checkId,
  name: checkId,
  type: "http",
  intervalSeconds: 30,
  timeoutMs: 5000,
  config: { url: "https://example.test" },
});

let databaseUrl: string;

beforeAll(async () => {
  const db = await createTestDatabase();
  databaseUrl = db.url;
  core = await startSatelliteCore(db.url, "gateway", {
    now: coreNow,
    monitor: false,
    gateway: {
      // Short, so the hello-timeout test is quick; long enough that a 2 MiB frame is read (and
      // refused as too big) before it on a loaded machine, or that test sees the timeout's close.
      helloTimeoutMs: 1_000,
      authFailureLimit: { max: 3, windowMs: 60_000 },
      assignmentsFor: async (satellite) => assignments.get(satellite.id) ?? [],
      resultSink: async (satelliteId, result) => {
        if (failStores) throw new Error("results table unavailable");
        stored.push({ satelliteId, result });
      },
    },
  });
  routed = collectRouted(core.router);
  core.router.start();
});

afterAll(async () => {
  await core?.stop();
});

// The core's clock moves with real time, and tests may push it ahead (the login rate limit's window).
let offset = 0;
const coreNow = () => Date.now() + offset;
const advance = (ms: number) => (offset += ms);

async function countChanges(satelliteId: string): Promise<number> {
  const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes WHERE entity_id = $1", [satelliteId]);
  return rows[0]!.n;
}

async function totalChanges(): Promise<number> {
  const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes");
  return rows[0]!.n;
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await core.metrics.getSingleMetric(name)?.get())?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return found?.value ?? 0;
}

/** A new satellite with these checks assigned, connected. */
async function connectWith(checkIds: string[] = [], hello: Parameters<typeof connectFakeSatellite>[2] = {}) {
  const credentials = await core.createSatellite();
  assignments.set(credentials.satelliteId, checkIds.map(check));
  return { credentials, ...(await connectFakeSatellite(core.url, credentials, hello)) };
}

/** Closes the socket and waits until its disconnect was recorded and routed, so no write of it is still in flight. */
async function closeAndSettle(satellite: FakeSatellite, satelliteId: string): Promise<void> {
  await satellite.close();
  await routed.lastIs(satelliteId, "satellite.disconnected");
}

/** A satellite with one assigned check that must keep being served while others misbehave. */
let bystander: { satellite: FakeSatellite; checkId: string };

async function expectBystanderServed(): Promise<void> {
  const sent = bystander.satellite.result(bystander.checkId);
  const ack = await bystander.satellite.next("ack", { where: (frame) => frame.resultIds.includes(sent.resultId) });
  expect(ack.resultIds).toContain(sent.resultId);
}

describe("the satellite gateway", () => {
  beforeAll(async () => {
    const credentials = await core.createSatellite({ name: "bystander" });
    assignments.set(credentials.satelliteId, [check("bystander-check")]);
    const { satellite } = await connectFakeSatellite(core.url, credentials);
    bystander = { satellite, checkId: "bystander-check" };
  });

  afterAll(async () => {
    await bystander?.satellite.close();
  });

  it("welcomes a satellite with valid credentials: online, lastEvent connected, exactly one satellite.connected routed", async () => {
    const { credentials, satellite, welcome } = await connectWith(["c1", "c2"], { version: "1.4.0", capabilities: ["http", "tcp"] });

    expect(welcome).toMatchObject({ type: "welcome", heartbeatIntervalMs: 100, assignments: [check("c1"), check("c2")] });
    expect(await core.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "online", lastEvent: "connected" });
    const { rows } = await core.pool.query("SELECT session_id, version, capabilities, connected_instance_id FROM satellites WHERE id = $1", [
      credentials.satelliteId,
    ]);
    expect(rows[0]).toEqual({ session_id: welcome.sessionId, version: "1.4.0", capabilities: ["http", "tcp"], connected_instance_id: "gateway" });
    expect(core.gateway.isConnected(credentials.satelliteId)).toBe(true);
    expect(await metric("vantage_satellite_connections")).toBe(2);

    // The disconnect's event is routed after the connect's: seeing it proves no second connected came before.
    await satellite.close();
    expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);
    expect(await core.satellites.connection.get(credentials.satelliteId)).toMatchObject({ status: "offline", lastEvent: "disconnected", lastSeenAt: null });
    expect((await core.registry.get(credentials.satelliteId)).instanceId).toBeNull();
    expect(core.gateway.isConnected(credentials.satelliteId)).toBe(false);
  });

  it("records exactly one disconnect when the client drops its TCP connection without a close frame", async () => {
    const { credentials, satellite } = await connectWith();
    await satellite.terminate();
    expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);
    expect(await countChanges(credentials.satelliteId)).toBe(2);
  });

  it("turns heartbeats into last_heartbeat_at through the buffer", async () => {
    const { credentials, satellite } = await connectWith();
    const { rows: before } = await core.pool.query<{ last_heartbeat_at: Date }>("SELECT last_heartbeat_at FROM satellites WHERE id = $1", [
      credentials.satelliteId,
    ]);
    const heartbeatsBefore = await metric("vantage_satellite_heartbeats_received_total");
    satellite.heartbeat();
    await expectBystanderServed(); // the heartbeat was read before this round trip completed
    await core.heartbeats.flush();
    const { rows: after } = await core.pool.query<{ last_heartbeat_at: Date; offline_at: Date }>(
      "SELECT last_heartbeat_at, offline_at FROM satellites WHERE id = $1",
      [credentials.satelliteId],
    );
    expect(after[0]!.last_heartbeat_at.getTime()).toBeGreaterThan(before[0]!.last_heartbeat_at.getTime());
    expect(await metric("vantage_satellite_heartbeats_received_total")).toBe(heartbeatsBefore + 1);
    expect(await countChanges(credentials.satelliteId)).toBe(1); // a heartbeat is not an entity change
    await closeAndSettle(satellite, credentials.satelliteId);
  });

  it("replaces an older socket of the same satellite with shutdown {replaced}; neither the new connect nor the late close records anything", async () => {
    const credentials = await core.createSatellite();
    const first = await connectFakeSatellite(core.url, credentials);
    const second = await connectFakeSatellite(core.url, credentials);

    expect(await first.satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "replaced" });
    await first.satellite.closed;
    const { rows } = await core.pool.query("SELECT session_id, last_connection_event FROM satellites WHERE id = $1", [credentials.satelliteId]);
    expect(rows[0]).toEqual({ session_id: second.welcome.sessionId, last_connection_event: "connected" });
    expect(core.gateway.isConnected(credentials.satelliteId)).toBe(true);

    await second.satellite.close();
    const events = await routed.events(credentials.satelliteId, 2);
    expect(events).toEqual(["satellite.connected", "satellite.disconnected"]);
  });

  describe("refuses bad credentials and changes nothing", () => {
    it("answers a wrong token with rejected {invalid_credentials} and closes", async () => {
      const { satelliteId } = await core.createSatellite();
      const satellite = await openFakeSatellite(core.url, { credentials: { satelliteId, token: `vsat_${"A".repeat(43)}` } });
      satellite.hello();
      expect(await satellite.next("rejected")).toMatchObject({ reason: "invalid_credentials" });
      expect((await satellite.closed).code).toBe(1008);
      expect(await countChanges(satelliteId)).toBe(0);
      await expectBystanderServed();
    });

    it("answers an unknown satellite id the same way", async () => {
      const before = await totalChanges();
      const satellite = await openFakeSatellite(core.url, { credentials: { satelliteId: randomUUID(), token: `vsat_${"B".repeat(43)}` } });
      satellite.hello();
      expect(await satellite.next("rejected")).toMatchObject({ reason: "invalid_credentials" });
      await satellite.closed;
      expect(await totalChanges()).toBe(before);
      await expectBystanderServed();
    });

    it("answers a socket that says nothing with rejected {hello_timeout} after the hello timeout", async () => {
      const before = await totalChanges();
      const satellite = await openFakeSatellite(core.url);
      expect(await satellite.next("rejected")).toMatchObject({ reason: "hello_timeout" });
      expect((await satellite.closed).code).toBe(1008);
      expect(await totalChanges()).toBe(before);
      await expectBystanderServed();
    });

    it("answers a first frame that is not a hello with rejected {hello_expected}", async () => {
      const { satelliteId, token } = await core.createSatellite();
      for (const first of ['{"type":"heartbeat","uptimeSeconds":1,"inFlight":0}', "{not json", JSON.stringify({ type: "hello", satelliteId, token })]) {
        const satellite = await openFakeSatellite(core.url);
        satellite.sendRaw(first);
        expect(await satellite.next("rejected")).toMatchObject({ reason: "hello_expected" });
        await satellite.closed;
      }
      expect(await countChanges(satelliteId)).toBe(0);
    });

    it("refuses an address after repeated failures with rate_limited, yet still lets a valid token in", async () => {
      const credentials = await core.createSatellite();
      const wrong = { satelliteId: credentials.satelliteId, token: `vsat_${"C".repeat(43)}` };
      const failuresBefore = await metric("vantage_satellite_auth_failures_total", { reason: "invalid_credentials" });
      // The limit is 3 a minute; earlier tests of this file already failed twice from 127.0.0.1.
      advance(60_000);
      for (let attempt = 0; attempt < 3; attempt++) {
        const satellite = await openFakeSatellite(core.url, { credentials: wrong });
        satellite.hello();
        expect(await satellite.next("rejected")).toMatchObject({ reason: "invalid_credentials" });
        await satellite.closed;
      }
      const limited = await openFakeSatellite(core.url, { credentials: wrong });
      limited.hello();
      expect(await limited.next("rejected")).toMatchObject({ reason: "rate_limited" });
      await limited.closed;
      expect(await metric("vantage_satellite_auth_failures_total", { reason: "invalid_credentials" })).toBe(failuresBefore + 3);
      expect(await metric("vantage_satellite_auth_failures_total", { reason: "rate_limited" })).toBe(1);
      expect(await countChanges(credentials.satelliteId)).toBe(0);
      await expectBystanderServed(); // an authenticated socket from the same address is unaffected

      // Its token is stored as SHA-256: checking it costs nothing, so it is never refused.
      const { satellite } = await connectFakeSatellite(core.url, credentials);
      await satellite.close();
      expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);
      advance(60_000); // the window passed
    });

    it("closes a socket whose frame exceeds 1 MiB, before hello, recording nothing", async () => {
      const before = await totalChanges();
      const satellite = await openFakeSatellite(core.url);
      satellite.sendRaw("x".repeat(2 * MAX_FRAME_BYTES));
      expect((await satellite.closed).code).toBe(1009);
      expect(await totalChanges()).toBe(before);
      await expectBystanderServed();
    });
  });

  describe("an authenticated socket sending bad frames", () => {
    it("gets an error frame for malformed JSON, invalid frames, binary frames and a second hello, and stays open", async () => {
      const { credentials, satellite } = await connectWith(["mine"]);
      const before = await countChanges(credentials.satelliteId);

      satellite.sendRaw("{oops");
      expect(await satellite.next("error")).toMatchObject({ code: "malformed_json" });
      satellite.send({ type: "heartbeat", uptimeSeconds: -1, inFlight: 0 });
      expect(await satellite.next("error")).toMatchObject({ code: "invalid_frame" });
      satellite.send({ type: "launch_missiles" });
      expect(await satellite.next("error")).toMatchObject({ code: "invalid_frame" });
      satellite.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
      expect(await satellite.next("error")).toMatchObject({ code: "binary_frame" });
      satellite.hello();
      expect(await satellite.next("error")).toMatchObject({ code: "unexpected_hello" });

      const result = satellite.result("mine");
      expect((await satellite.next("ack")).resultIds).toEqual([result.resultId]);
      expect(await countChanges(credentials.satelliteId)).toBe(before);
      expect(await metric("vantage_satellite_bad_frames_total", { code: "malformed_json" })).toBeGreaterThanOrEqual(1);
      await closeAndSettle(satellite, credentials.satelliteId);
    });

    it("is closed after more than 20 bad frames in a minute", async () => {
      const { credentials, satellite } = await connectWith();
      for (let i = 0; i < 21; i++) satellite.sendRaw("nope");
      expect(await satellite.next("error", { where: (frame) => frame.code === "too_many_bad_frames" })).toBeDefined();
      expect((await satellite.closed).code).toBe(1008);
      expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);
      await expectBystanderServed();
    });

    it("is closed by a frame over 1 MiB, which records its disconnect and nothing else", async () => {
      const { credentials, satellite } = await connectWith();
      satellite.sendRaw(JSON.stringify({ type: "bye", reason: "x".repeat(2 * MAX_FRAME_BYTES) }));
      expect((await satellite.closed).code).toBe(1009);
      expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);
      expect(await countChanges(credentials.satelliteId)).toBe(2);
      await expectBystanderServed();
    });

    it("never crashes on arbitrary input", async () => {
      const { satellite } = await connectWith();
      const junk = [
        "",
        "null",
        "[]",
        "42",
        '"hello"',
        '{"type":null}',
        '{"__proto__":{"type":"heartbeat"}}',
        '{"type":"result","resultId":"x","checkId":{},"startedAt":1}',
        `{"type":"heartbeat","uptimeSeconds":1e999,"inFlight":0}`,
        "\u0000\uffff",
        "{".repeat(10_000),
      ];
      for (const text of junk) satellite.sendRaw(text);
      for (let i = 0; i < junk.length; i++) await satellite.next("error");
      satellite.send({ type: "bye", reason: "done" });
      expect((await satellite.closed).code).toBe(1000);
      await expectBystanderServed();
    });
  });

  describe("results", () => {
    it("hands a result of an assigned check to the sink once and acks it; a resend is acked without the sink", async () => {
      const { credentials, satellite } = await connectWith(["api"]);
      // Started by the core's clock after the welcome: not taken for a possible resend.
      const sent = satellite.result("api", { status: "down", detail: { reason: "timed out" }, startedAt: new Date(coreNow()).toISOString() });
      expect((await satellite.next("ack")).resultIds).toEqual([sent.resultId]);
      satellite.send(sent);
      expect((await satellite.next("ack")).resultIds).toEqual([sent.resultId]);
      expect(stored.filter((entry) => entry.result.resultId === sent.resultId)).toEqual([{ satelliteId: credentials.satelliteId, result: sent }]);
      expect(await metric("vantage_satellite_results_duplicate_total")).toBeGreaterThanOrEqual(1);
      await closeAndSettle(satellite, credentials.satelliteId);
    });

    it("hands the sink a result as a possible resend when the agent marks it, or, for an agent that marks none, when it started before the welcome", async () => {
      /** Sends a result that started `ms` from the core's now; what the sink was handed as its mark. */
      const sunk = async (satellite: FakeSatellite, ms: number, resend?: true) => {
        const frame = satellite.result("r", { startedAt: new Date(coreNow() + ms).toISOString(), ...(resend ? { resend } : {}) });
        await satellite.next("ack", { where: (ack) => ack.resultIds.includes(frame.resultId) });
        return stored.find((entry) => entry.result.resultId === frame.resultId)!.result.resend;
      };

      const older = await connectWith(["r"]);
      expect(await sunk(older.satellite, -60_000)).toBe(true);
      expect(await sunk(older.satellite, 60_000)).toBeUndefined();
      const marking = await connectWith(["r"], { capabilities: ["http", RESEND_MARK_CAPABILITY] });
      expect(await sunk(marking.satellite, -60_000)).toBeUndefined();
      expect(await sunk(marking.satellite, -60_000, true)).toBe(true);

      await closeAndSettle(older.satellite, older.credentials.satelliteId);
      await closeAndSettle(marking.satellite, marking.credentials.satelliteId);
    });

    it("batches acks of results sent together", async () => {
      const { credentials, satellite } = await connectWith(["batch"]);
      const ids = Array.from({ length: 10 }, () => satellite.result("batch").resultId);
      const acked: string[] = [];
      while (acked.length < ids.length) acked.push(...(await satellite.next("ack")).resultIds);
      expect(acked).toEqual(ids);
      expect(satellite.received.filter((frame) => frame.type === "ack").length).toBeLessThan(ids.length);
      await closeAndSettle(satellite, credentials.satelliteId);
    });

    it("drops a result for a check not assigned to the satellite: counted, error frame, socket kept, nothing stored", async () => {
      const { credentials, satellite } = await connectWith(["assigned"]);
      const droppedBefore = await metric("vantage_satellite_results_dropped_total", { reason: "unassigned" });
      const before = await totalChanges();

      const foreign = satellite.result("someone-elses-check", { startedAt: new Date(coreNow()).toISOString() });
      expect(await satellite.next("error")).toMatchObject({ code: "unassigned_check" });
      // Many results from before this session (a buffer replayed after its checks were
      // unassigned) do not close the socket: acknowledged, so the satellite forgets them.
      const replayed = Array.from(
        { length: 30 },
        () => satellite.result("someone-elses-check", { startedAt: new Date(coreNow() - 3_600_000).toISOString() }).resultId,
      );
      const acked = new Set<string>();
      while (replayed.some((id) => !acked.has(id))) for (const id of (await satellite.next("ack")).resultIds) acked.add(id);
      const mine = satellite.result("assigned");
      expect((await satellite.next("ack")).resultIds).toEqual([mine.resultId]); // the one of this session is never acked
      expect(acked.has(foreign.resultId)).toBe(false);
      expect(stored.some((entry) => entry.result.resultId === foreign.resultId)).toBe(false);
      expect(await metric("vantage_satellite_results_dropped_total", { reason: "unassigned" })).toBe(droppedBefore + 31);
      expect(await totalChanges()).toBe(before);
      await closeAndSettle(satellite, credentials.satelliteId);
    });

    it("does not ack a result the sink failed to store, and stores it when it is sent again", async () => {
      const { credentials, satellite } = await connectWith(["flaky"]);
      failStores = true;
      const sent = satellite.result("flaky");
      expect(await satellite.next("error")).toMatchObject({ code: "result_not_stored" });
      failStores = false;
      satellite.send(sent);
      expect((await satellite.next("ack")).resultIds).toEqual([sent.resultId]);
      expect(satellite.received.filter((frame) => frame.type === "ack")).toHaveLength(1);
      expect(stored.filter((entry) => entry.result.resultId === sent.resultId)).toHaveLength(1);
      await closeAndSettle(satellite, credentials.satelliteId);
    });

    it("authorizes against the assignments pushed since the welcome", async () => {
      const { credentials, satellite, welcome } = await connectWith();
      expect(welcome.assignments).toEqual([]);

      const session = core.gateway.session(credentials.satelliteId)!;
      expect(session.setAssignments([check("new")])).toBe(true);
      expect(session.assignments).toEqual([check("new")]);
      expect(await satellite.next("assignments")).toEqual({ type: "assignments", assignments: [check("new")] });
      const sent = satellite.result("new");
      expect((await satellite.next("ack")).resultIds).toEqual([sent.resultId]);

      expect(core.gateway.session(randomUUID())).toBeUndefined(); // not connected here
      await satellite.close();
      expect(session.setAssignments([check("after-close")])).toBe(false);
      await closeAndSettle(satellite, credentials.satelliteId);
    });
  });

  describe("revocations", () => {
    it("closes the socket with shutdown {token_rotated} when the token is rotated (NOTIFY from any process)", async () => {
      const { credentials, satellite } = await connectWith();
      await core.registry.rotateToken(credentials.satelliteId);
      expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "token_rotated" });
      await satellite.closed;
      expect(await routed.events(credentials.satelliteId, 2)).toEqual(["satellite.connected", "satellite.disconnected"]);

      // The old token no longer opens a connection.
      const again = await openFakeSatellite(core.url, { credentials });
      again.hello();
      expect(await again.next("rejected")).toMatchObject({ reason: "invalid_credentials" });
      await again.closed;
    });

    it("closes a socket whose satellite is revoked while its hello is being checked, recording nothing", async () => {
      let entered!: () => void;
      const checking = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const slow: SatelliteCore = await startSatelliteCore(databaseUrl, "gateway-slow", {
        monitor: false,
        gateway: {
          authenticate: async (id, token) => {
            entered();
            await held;
            return slow.registry.verifyCredentials(id, token);
          },
        },
      });
      try {
        const credentials = await slow.createSatellite();
        const satellite = await openFakeSatellite(slow.url, { credentials });
        satellite.hello();
        await checking;
        expect(slow.gateway.revoke(credentials.satelliteId, "token_rotated")).toBe(true);
        release();
        expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "token_rotated" });
        await satellite.closed;
        expect(satellite.received.map((frame) => frame.type)).toEqual(["shutdown"]);
        await slow.stop(); // waits for the connect in flight to finish
        expect(await countChanges(credentials.satelliteId)).toBe(0);
      } finally {
        release();
        await slow.stop();
      }
    });

    it("closes the socket with shutdown {deleted} on a raw revocation NOTIFY, and ignores malformed ones", async () => {
      const { credentials, satellite } = await connectWith();
      await core.pool.query("SELECT pg_notify('vantage_satellite_revoked', 'not json')");
      await core.pool.query("SELECT pg_notify('vantage_satellite_revoked', $1)", [JSON.stringify({ satelliteId: credentials.satelliteId, reason: "deleted" })]);
      expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "deleted" });
      await satellite.closed;
      await expectBystanderServed();
    });
  });
});
