// The gateway's bounds: misbehaving satellites cut off, sockets before their welcome capped and unread once rejected, the failed-login limit.
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { ASSIGNMENT_PARTS_CAPABILITY, type Assignment, type CoreFrame, MAX_FRAME_BYTES, MAX_HELLO_FRAME_BYTES } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClientAddressOf } from "../../../src/auth/index.ts";
import { hashSecret } from "../../../src/auth/secrets.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite, openFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

// The gateway against peers that misbehave on purpose: floods before and after hello, peers
// that never read, bursts of wrong tokens, and many clients behind one trusted proxy.
let databaseUrl: string;
let core: SatelliteCore;
const assignments = new Map<string, Assignment[]>();

const check = (checkId: string, configBytes = 0): Assignment => ({
  checkId,
  name: checkId,
  type: "http",
  intervalSeconds: 30,
  timeoutMs: 5000,
  config: { url: "https://example.test", padding: "p".repeat(configBytes) },
});

beforeAll(async () => {
  databaseUrl = (await createTestDatabase()).url;
  core = await startSatelliteCore(databaseUrl, "gateway-limits", {
    monitor: false,
    gateway: {
      assignmentsFor: async (satellite) => assignments.get(satellite.id) ?? [],
      maxSendBufferBytes: 256 * 1024,
      // The proxy every test client comes through: 127.0.0.1, trusted.
      clientAddressOf: createClientAddressOf(["127.0.0.1"]),
    },
  });
});

afterAll(async () => {
  await core?.stop();
});

let clients = 0;
/** A distinct client address behind the trusted proxy, for tests whose failures must not meet. */
const nextClient = () => ({ "x-forwarded-for": `203.0.113.${++clients}` });

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await core.metrics.getSingleMetric(name)?.get())?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return found?.value ?? 0;
}

async function connectWith(checks: Assignment[], headers: Record<string, string> = nextClient(), capabilities?: string[]) {
  const credentials = await core.createSatellite();
  assignments.set(credentials.satelliteId, checks);
  return { credentials, ...(await connectFakeSatellite(core.url, credentials, capabilities ? { capabilities } : {}, headers)) };
}

async function countChanges(satelliteId: string): Promise<number> {
  const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes WHERE entity_id = $1", [satelliteId]);
  return rows[0]!.n;
}

/** A hello from `headers`' client, answered welcome or rejected. */
async function helloAnswer(credentials: { satelliteId: string; token: string }, headers: Record<string, string>): Promise<string> {
  const satellite = await openFakeSatellite(core.url, { credentials, headers });
  satellite.hello();
  const answer = await satellite.nextWhere((frame) => frame.type === "welcome" || frame.type === "rejected");
  await satellite.close();
  return answer.type === "rejected" ? answer.reason : answer.type;
}

const wrongToken = () => `vsat_${randomUUID().replaceAll("-", "").padEnd(43, "Q")}`;

describe("a logged-in satellite that misbehaves", () => {
  it("is cut off when it streams results with 32 KiB check ids and reads nothing, and what the core holds for it stays small", async () => {
    const { satellite } = await connectWith([check("mine")]);
    satellite.ws.pause(); // reads nothing from here on
    const hugeId = "x".repeat(32 * 1024);
    for (let i = 0; i < 200; i++) {
      satellite.send({ type: "result", resultId: randomUUID(), checkId: hugeId, startedAt: new Date().toISOString(), durationMs: 1, status: "up", detail: {} });
    }
    satellite.ws.resume();
    expect((await satellite.closed).code).toBe(1008);
    const bytesSent = satellite.received.reduce((sum, frame) => sum + JSON.stringify(frame).length, 0);
    expect(bytesSent).toBeLessThan(32 * 1024);
    expect(satellite.received.at(-1)).toMatchObject({ type: "error", code: "too_many_bad_frames" });
  });

  it("is closed by the bad-frame limit when it sends results for checks it never had, and no error quotes more than a bounded part of its input", async () => {
    const { satellite } = await connectWith([check("mine")]);
    const before = await metric("vantage_satellite_bad_frames_total", { code: "unassigned_check" });
    for (let i = 0; i < 21; i++) satellite.result(`never-${"n".repeat(150)}-${i}`);
    expect((await satellite.closed).code).toBe(1008);
    const errors = satellite.received.filter((frame) => frame.type === "error");
    expect(errors.at(-1)).toMatchObject({ code: "too_many_bad_frames" });
    for (const frame of errors) expect(frame.type === "error" && frame.message.length).toBeLessThan(200);
    expect(await metric("vantage_satellite_bad_frames_total", { code: "unassigned_check" })).toBe(before + 21);
  });

  it("gets late results of a check it had, and results buffered from before its session, acknowledged and dropped without an error", async () => {
    const { credentials, satellite } = await connectWith([check("was"), check("stays")]);
    core.gateway.session(credentials.satelliteId)!.setAssignments([check("stays")]);
    await satellite.next("assignments");
    const late = satellite.result("was");
    const buffered = satellite.result("unassigned-while-offline", { startedAt: new Date(Date.now() - 3_600_000).toISOString() });
    const acks = new Set<string>();
    while (!acks.has(late.resultId) || !acks.has(buffered.resultId)) for (const id of (await satellite.next("ack")).resultIds) acks.add(id);
    expect(satellite.received.filter((frame) => frame.type === "error")).toEqual([]);
    await satellite.close();
  });

  it("is cut off once the core's unsent output to it passes the bound, instead of growing the core's memory", async () => {
    const { credentials, satellite } = await connectWith([check("big", 64 * 1024)]);
    assignments.set(
      credentials.satelliteId,
      Array.from({ length: 4 }, (_, index) => check(`big-${index}`, 64 * 1024)),
    );
    const before = await metric("vantage_satellite_slow_consumers_total");
    satellite.ws.pause();
    // Each push is ~256 KiB; the kernel's socket buffers take some MiB before the core's own buffer grows.
    for (let push = 0; push < 150 && (await metric("vantage_satellite_slow_consumers_total")) === before; push++) {
      core.gateway.session(credentials.satelliteId)!.setAssignments(assignments.get(credentials.satelliteId)!);
    }
    expect(await metric("vantage_satellite_slow_consumers_total")).toBe(before + 1);
    satellite.ws.resume();
    await satellite.closed;
  });
});

describe("an assignment set larger than a frame", () => {
  // 40 checks of 40 KiB: 1.6 MiB, over the 1 MiB a frame may be.
  const large = (prefix: string) => Array.from({ length: 40 }, (_, index) => check(`${prefix}-${index}`, 40 * 1024));
  /** The frames from `first` on to the first without `more`: one set. */
  const setFrom = async (satellite: FakeSatellite, first: CoreFrame) => {
    const frames = [first];
    const more = (frame: CoreFrame) => (frame.type === "welcome" || frame.type === "assignments") && frame.more === true;
    while (more(frames.at(-1)!)) frames.push(await satellite.next("assignments"));
    for (const frame of frames) expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    return { frames: frames.length, ids: frames.flatMap((frame) => ("assignments" in frame ? frame.assignments.map((a) => a.checkId) : [])) };
  };

  it("goes in parts that each fit a frame, at the welcome and at a change, to an agent that puts parts together", async () => {
    const { credentials, satellite, welcome } = await connectWith(large("welcome"), nextClient(), ["http", ASSIGNMENT_PARTS_CAPABILITY]);
    const welcomed = await setFrom(satellite, welcome);
    expect(welcomed.frames).toBe(2);
    expect(welcomed.ids).toEqual(large("welcome").map((a) => a.checkId));

    core.gateway.session(credentials.satelliteId)!.setAssignments(large("changed"));
    const changed = await setFrom(satellite, await satellite.next("assignments"));
    expect(changed.frames).toBe(2);
    expect(changed.ids).toEqual(large("changed").map((a) => a.checkId));
    await satellite.close();
  });

  it("goes whole, as before, to an agent that does not announce it puts parts together", async () => {
    const { satellite, welcome } = await connectWith(large("old"), nextClient(), ["http"]);
    expect(welcome.assignments).toHaveLength(40);
    expect("more" in welcome).toBe(false);
    await satellite.close();
  });
});

describe("a socket before its welcome", () => {
  it("is rejected for a first frame over the hello bound, even a valid hello padded out, and nothing is recorded", async () => {
    const credentials = await core.createSatellite();
    const satellite = await openFakeSatellite(core.url, { credentials, headers: nextClient() });
    satellite.hello({ padding: "x".repeat(2 * MAX_HELLO_FRAME_BYTES) } as object);
    expect(await satellite.next("rejected")).toMatchObject({ reason: "hello_expected", message: expect.stringContaining(`${MAX_HELLO_FRAME_BYTES} bytes`) });
    expect((await satellite.closed).code).toBe(1008);
    expect(await countChanges(credentials.satelliteId)).toBe(0);
  });

  it("is no longer read once rejected: a flood sent after a wrong hello stays unread", async () => {
    let serverSocket: Socket | undefined;
    const capture = (_request: unknown, socket: Socket) => (serverSocket ??= socket);
    core.server.on("upgrade", capture);
    try {
      const { satelliteId } = await core.createSatellite();
      const satellite = await openFakeSatellite(core.url, { credentials: { satelliteId, token: wrongToken() }, headers: nextClient() });
      satellite.hello();
      for (let i = 0; i < 8; i++) satellite.sendRaw("f".repeat(512 * 1024));
      expect(await satellite.next("rejected")).toMatchObject({ reason: "invalid_credentials" });
      await satellite.closed;
      expect(serverSocket!.bytesRead).toBeLessThan(1024 * 1024);
    } finally {
      core.server.off("upgrade", capture);
    }
  });

  it("counts against a cap per client address: the 33rd socket awaiting welcome is refused, and a welcome frees a place", async () => {
    const headers = nextClient();
    const waiting: FakeSatellite[] = [];
    for (let i = 0; i < 32; i++) waiting.push(await openFakeSatellite(core.url, { headers }));
    await expect(openFakeSatellite(core.url, { headers })).rejects.toThrow("HTTP 429");
    const other = await openFakeSatellite(core.url, { headers: nextClient() }); // another client is unaffected
    await other.close();

    const credentials = await core.createSatellite();
    const first = waiting.shift()!;
    first.send({ type: "hello", satelliteId: credentials.satelliteId, token: credentials.token, version: "0.0.0-test", capabilities: [] });
    await first.next("welcome");
    const next = await openFakeSatellite(core.url, { headers });
    await expect(openFakeSatellite(core.url, { headers })).rejects.toThrow("HTTP 429");
    await next.close();
    await Promise.all([first, ...waiting].map((satellite) => satellite.close()));
    expect(await metric("vantage_satellite_upgrades_refused_total", { reason: "unauthenticated_limit" })).toBe(2);
  });
});

/** Opens one socket per client first, then sends every hello at once: the answers' reasons, counted. */
async function helloBurst(hellos: Array<{ credentials: { satelliteId: string; token: string }; headers: Record<string, string> }>) {
  const sockets = await Promise.all(hellos.map(({ credentials, headers }) => openFakeSatellite(core.url, { credentials, headers })));
  for (const satellite of sockets) satellite.hello();
  const reasons = await Promise.all(sockets.map(async (satellite) => (await satellite.next("rejected")).reason));
  await Promise.all(sockets.map((satellite) => satellite.closed));
  return {
    invalid: reasons.filter((reason) => reason === "invalid_credentials").length,
    limited: reasons.filter((reason) => reason === "rate_limited").length,
  };
}

/** A satellite whose token is stored as tokens were before SHA-256: each check of it is a real scrypt. */
async function legacySatellite() {
  const credentials = await core.createSatellite();
  await core.pool.query("UPDATE satellites SET token_hash = $2 WHERE id = $1", [credentials.satelliteId, await hashSecret(credentials.token)]);
  return credentials;
}

describe("the failed-login limit", () => {
  it("checks at most 10 of 30 wrong hellos sent at once from one client, answering the rest rate_limited", async () => {
    const headers = nextClient();
    const hellos = await Promise.all(Array.from({ length: 30 }, async () => ({ credentials: { ...(await legacySatellite()), token: wrongToken() }, headers })));
    expect(await helloBurst(hellos)).toEqual({ invalid: 10, limited: 20 });
  });

  it("checks at most 10 of 60 wrong hellos for one satellite sent at once from 60 clients", async () => {
    const { satelliteId } = await legacySatellite();
    const hellos = Array.from({ length: 60 }, () => ({ credentials: { satelliteId, token: wrongToken() }, headers: nextClient() }));
    expect(await helloBurst(hellos)).toEqual({ invalid: 10, limited: 50 });
  });

  it("behind a trusted proxy counts per forwarded client: one client's wrong tokens refuse no other client", async () => {
    const target = await core.createSatellite();
    const attacker = nextClient();
    for (let i = 0; i < 10; i++) expect(await helloAnswer({ ...(await core.createSatellite()), token: wrongToken() }, attacker)).toBe("invalid_credentials");
    expect(await helloAnswer({ ...target, token: wrongToken() }, attacker)).toBe("rate_limited");
    expect(await helloAnswer({ ...target, token: wrongToken() }, nextClient())).toBe("invalid_credentials");
    expect(await helloAnswer(target, nextClient())).toBe("welcome");
  });

  it("never refuses a token that verifies cheaply, from a client or for a satellite over the limit", async () => {
    const target = await core.createSatellite();
    const attacker = nextClient();
    // Ten clients fail against the target: its id is over the limit; the attacker's address is too.
    for (let i = 0; i < 10; i++) expect(await helloAnswer({ ...target, token: wrongToken() }, i === 0 ? attacker : nextClient())).toBe("invalid_credentials");
    for (let i = 0; i < 10; i++) await helloAnswer({ ...(await core.createSatellite()), token: wrongToken() }, attacker);
    expect(await helloAnswer({ ...target, token: wrongToken() }, nextClient())).toBe("rate_limited");
    expect(await helloAnswer(target, attacker)).toBe("welcome");
    expect(await helloAnswer(target, nextClient())).toBe("welcome");

    // A token still stored as scrypt is the one thing refused unchecked while over the limit.
    const legacy = await legacySatellite();
    expect(await helloAnswer(legacy, attacker)).toBe("rate_limited");
    expect(await helloAnswer(legacy, nextClient())).toBe("welcome"); // and then upgraded to SHA-256
    expect(await helloAnswer(legacy, attacker)).toBe("welcome");
  });
});
