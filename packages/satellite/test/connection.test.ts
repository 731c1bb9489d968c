// The agent against a stand-in core on a real socket: the protocol as the agent sees it.
// (Against the real gateway and database: core.test.ts.)
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Assignment } from "@vantage/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { loadSatelliteConfig } from "../src/config.ts";
import { type RunOutcome, run } from "../src/main.ts";
import { createProbeRegistry } from "../src/probes/registry.ts";
import { type CapturedLogs, LEVEL, captureLogs } from "./support/capture-logs.ts";
import { type FakeCore, type FakeCoreOptions, type FakeSession, startFakeCore } from "./support/fake-core.ts";

const SATELLITE_ID = randomUUID();
const TOKEN = `vsat_${"t".repeat(43)}`;

interface Agent {
  outcome: Promise<RunOutcome>;
  logs: CapturedLogs;
  ranChecks: string[];
  stop(): Promise<RunOutcome>;
}

let core: FakeCore;
let agent: Agent | undefined;

/** A self-signed certificate for 127.0.0.1, its own CA. */
const TLS_DIR = new URL("./support/tls/", import.meta.url);
const CORE_TLS = { key: readFileSync(new URL("core-key.pem", TLS_DIR), "utf8"), cert: readFileSync(new URL("core-cert.pem", TLS_DIR), "utf8") };

async function startAgent(options: FakeCoreOptions & { caFile?: string } = {}): Promise<Agent> {
  core = await startFakeCore(options);
  const logs = captureLogs();
  const ranChecks: string[] = [];
  const probes = createProbeRegistry();
  probes.register("fake", async (assignment) => {
    ranChecks.push(assignment.checkId);
    return { status: "up", detail: { checked: assignment.checkId } };
  });
  const stopper = new AbortController();
  const config = loadSatelliteConfig({
    VANTAGE_URL: core.url,
    VANTAGE_SATELLITE_ID: SATELLITE_ID,
    VANTAGE_SATELLITE_TOKEN: TOKEN,
    VANTAGE_CA_FILE: options.caFile,
  });
  // random 0: checks run as soon as they are assigned, reconnects come at once.
  const outcome = run(config, { logger: logs.logger, probes, random: () => 0, signal: stopper.signal, stopOnSignals: [], backoff: { baseMs: 10, maxMs: 50 } });
  agent = {
    outcome,
    logs,
    ranChecks,
    stop: () => {
      stopper.abort();
      return outcome;
    },
  };
  return agent;
}

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await core.stop();
});

function check(checkId: string): Assignment {
  return { checkId, name: checkId, type: "fake", intervalSeconds: 3_600, timeoutMs: 1_000, config: {} };
}

function welcome(session: FakeSession, assignments: Assignment[] = [], heartbeatIntervalMs = 60_000) {
  session.send({ type: "welcome", sessionId: randomUUID(), heartbeatIntervalMs, assignments });
}

describe("the agent's connection to the core", () => {
  it("answers a run frame with the outcome of that one run, as a runResult and not a buffered result", async () => {
    const { stop } = await startAgent();
    const session = await core.session(0);
    await session.waitForFrame("hello");
    welcome(session);
    const requestId = randomUUID();
    session.send({ type: "run", requestId, check: check("on-demand") });
    expect(await session.waitForFrame("runResult")).toMatchObject({ type: "runResult", requestId, result: { status: "up", detail: { checked: "on-demand" } } });
    await stop();
    expect(session.frames.filter((frame) => frame.type === "result")).toEqual([]);
  });

  it("says hello with its id, token, version and capabilities, heartbeats, and says bye when stopped", async () => {
    const { stop, logs } = await startAgent();
    const session = await core.session(0);
    expect(await session.waitForFrame("hello")).toEqual({
      type: "hello",
      satelliteId: SATELLITE_ID,
      token: TOKEN,
      version: "0.1.0",
      capabilities: ["fake", "run-on-demand", "assignment-parts", "resend-mark"],
    });
    welcome(session, [], 20);
    const heartbeat = await session.waitForFrame("heartbeat");
    expect(heartbeat).toEqual({ type: "heartbeat", uptimeSeconds: expect.any(Number), inFlight: 0 });
    await logs.waitFor((line) => line.msg === "connected to the core");

    expect(await stop()).toEqual({ exitCode: 0, reason: "stopped" });
    expect(session.frames.at(-1)).toEqual({ type: "bye", reason: "shutdown" });
    await session.closed;
    expect(JSON.stringify(logs.lines)).not.toContain(TOKEN);
  });

  it("sends results, re-sends the unacknowledged ones after a reconnect, and forgets acknowledged ones", async () => {
    const { stop, logs } = await startAgent();
    const first = await core.session(0);
    welcome(first, [check("a"), check("b")]);
    const a = await first.waitForFrame("result", (r) => r.checkId === "a");
    const b = await first.waitForFrame("result", (r) => r.checkId === "b");
    expect(a).toMatchObject({ status: "up", detail: { checked: "a" } });
    first.send({ type: "ack", resultIds: [a.resultId] });
    // Frames are handled in order: once this one is logged, the ack has been taken.
    first.send({ type: "error", code: "marker", message: "after the ack" });
    await logs.waitFor((line) => line.code === "marker");
    first.socket.terminate();

    const second = await core.session(1);
    await second.waitForFrame("hello");
    welcome(second, []);
    // Sent on the first session and never acknowledged: marked, the core may have stored it.
    expect(await second.waitForFrame("result")).toEqual({ ...b, resend: true });
    expect(second.frames.filter((frame) => frame.type === "result")).toEqual([{ ...b, resend: true }]);
    expect(await logs.waitFor((line) => line.msg === "connected to the core" && line.resending === 1)).toBeTruthy();
    second.send({ type: "ack", resultIds: [b.resultId] });

    await logs.waitFor((line) => line.msg === "assignments changed" && line.removed === 2);
    second.send({ type: "error", code: "marker", message: "after the ack" });
    await logs.waitFor((line) => line.code === "marker");
    await stop();
    expect(logs.lines.find((line) => line.msg === "stopped")).toMatchObject({ unacknowledgedResults: 0 });
  });

  it("exits with code 2 and one clear line when the core rejects its credentials", async () => {
    const { outcome, logs } = await startAgent();
    const session = await core.session(0);
    await session.waitForFrame("hello");
    session.send({ type: "rejected", reason: "invalid_credentials", message: "unknown satellite or wrong token" });
    session.socket.close(4001, "invalid credentials");

    expect(await outcome).toEqual({ exitCode: 2, reason: "invalid_credentials" });
    const fatal = logs.lines.filter((line) => line.level >= LEVEL.error);
    expect(fatal.map((line) => line.msg)).toEqual(["the core rejected this satellite's credentials: check --id and --token, or rotate the token"]);
    expect(core.sessions).toHaveLength(1);
  });

  it.each([
    ["rate_limited", "rate-limiting"],
    ["hello_timeout", "gave up waiting"],
  ] as const)("backs off and tries again when rejected as %s", async (reason, explanation) => {
    const { logs } = await startAgent();
    const first = await core.session(0);
    await first.waitForFrame("hello");
    first.send({ type: "rejected", reason, message: "try later" });
    first.socket.close(1008);

    const second = await core.session(1);
    await second.waitForFrame("hello");
    expect(await logs.waitFor((line) => line.msg.startsWith("reconnecting in"))).toMatchObject({ delayMs: expect.any(Number), attempt: 1 });
    expect(logs.lines.find((line) => line.msg.startsWith("disconnected from the core"))?.msg).toContain(explanation);
  });

  it.each([
    ["deleted", "this satellite was deleted on the core"],
    ["token_rotated", "this satellite's token was rotated on the core"],
  ] as const)("exits with code 2 when the core shuts it out as %s", async (reason, message) => {
    const { outcome, logs } = await startAgent();
    const session = await core.session(0);
    welcome(session);
    session.send({ type: "shutdown", reason });

    expect((await outcome).exitCode).toBe(2);
    expect(logs.lines.find((line) => line.level === LEVEL.fatal)?.msg).toContain(message);
    expect(core.sessions).toHaveLength(1);
  });

  it.each(["server_shutdown", "replaced"] as const)("reconnects with backoff when the core says %s", async (reason) => {
    const { logs } = await startAgent();
    const first = await core.session(0);
    welcome(first);
    first.send({ type: "shutdown", reason });
    await first.closed;

    const second = await core.session(1);
    await second.waitForFrame("hello");
    await logs.waitFor((line) => line.msg.startsWith("reconnecting in"));
    expect(logs.lines.some((line) => line.level === LEVEL.fatal)).toBe(false);
  });

  it.each([
    ["server_shutdown", "starts from the shortest delay after each one, however short the sessions", [1, 1, 1]],
    ["replaced", "backs off further after each short session", [1, 2, 3]],
  ] as const)("when the core says %s, %s", async (reason, _behaviour, attempts) => {
    const { logs } = await startAgent();
    for (let index = 0; index < attempts.length; index++) {
      const session = await core.session(index);
      await session.waitForFrame("hello");
      welcome(session);
      session.send({ type: "shutdown", reason });
      await session.closed;
    }
    await core.session(attempts.length);
    const reconnects = logs.lines.filter((line) => line.msg.startsWith("reconnecting in"));
    expect(reconnects.map((line) => line.attempt)).toEqual(attempts);
  });

  it("logs and ignores frames it cannot read, and keeps going", async () => {
    const { logs } = await startAgent();
    const session = await core.session(0);
    await session.waitForFrame("hello");
    session.send("this is not JSON");
    session.send(JSON.stringify({ type: "welcome", sessionId: "nope" }));
    session.send(JSON.stringify({ type: "teleport" }));
    welcome(session, [], 20);

    await session.waitForFrame("heartbeat");
    const ignored = logs.lines.filter((line) => line.msg === "ignored an invalid frame from the core");
    expect(ignored.map((line) => line.code)).toEqual(["malformed_json", "invalid_frame", "invalid_frame"]);
    expect(core.sessions).toHaveLength(1);
  });

  it("replaces its whole assignment set on every welcome and assignments frame", async () => {
    const { logs, ranChecks } = await startAgent();
    const first = await core.session(0);
    welcome(first, [check("a"), check("b")]);
    await first.waitForFrame("result", (r) => r.checkId === "b");
    await first.waitForFrame("result", (r) => r.checkId === "a");

    first.send({ type: "assignments", assignments: [check("b"), check("c")] });
    await first.waitForFrame("result", (r) => r.checkId === "c");
    expect(await logs.waitFor((line) => line.msg === "assignments changed" && line.added === 1)).toMatchObject({
      added: 1,
      removed: 1,
      changed: 0,
      unchanged: 1,
      total: 2,
    });

    // A reconnect is a resync: the welcome's set is the whole truth.
    first.socket.terminate();
    const second = await core.session(1);
    welcome(second, [check("c")]);
    await logs.waitFor((line) => line.msg === "assignments changed" && line.removed === 1 && line.total === 1);
    expect([...ranChecks].sort()).toEqual(["a", "b", "c"]);
  });

  it("applies a set sent in parts once its last part arrived, dropping a part left over by a reconnect", async () => {
    const { logs } = await startAgent();
    const first = await core.session(0);
    first.send({ type: "welcome", sessionId: randomUUID(), heartbeatIntervalMs: 60_000, assignments: [check("a")], more: true });
    first.send({ type: "assignments", assignments: [check("b")], more: true });
    first.send({ type: "assignments", assignments: [check("c")] });
    expect(await logs.waitFor((line) => line.msg === "assignments changed")).toMatchObject({ added: 3, removed: 0, total: 3 });

    first.send({ type: "assignments", assignments: [check("a")], more: true });
    first.socket.terminate();
    const second = await core.session(1);
    second.send({ type: "welcome", sessionId: randomUUID(), heartbeatIntervalMs: 60_000, assignments: [check("c")], more: true });
    second.send({ type: "assignments", assignments: [check("d")] });
    // The part sent before the reconnect counts for nothing: the set is c and d.
    expect(await logs.waitFor((line) => line.msg === "assignments changed" && line.added === 1)).toMatchObject({ added: 1, removed: 2, total: 2 });
    // No part was ever applied on its own.
    expect(logs.lines.filter((line) => line.msg === "assignments changed" || line.msg === "assignments unchanged")).toHaveLength(2);
  });

  it("exits with code 2 and says why when it cannot verify the core's TLS certificate", async () => {
    const { outcome, logs } = await startAgent({ tls: CORE_TLS });

    expect(await outcome).toEqual({ exitCode: 2, reason: "tls_unverified" });
    const fatal = logs.lines.filter((line) => line.level === LEVEL.fatal).map((line) => line.msg);
    expect(fatal).toEqual([expect.stringMatching(/^cannot verify the core's TLS certificate \(DEPTH_ZERO_SELF_SIGNED_CERT: .*--ca-file$/)]);
    expect(logs.lines.some((line) => line.msg.startsWith("reconnecting in"))).toBe(false);
  });

  it("connects over wss:// to a core whose CA it trusts through --ca-file", async () => {
    await startAgent({ tls: CORE_TLS, caFile: new URL("core-cert.pem", TLS_DIR).pathname });
    const session = await core.session(0);
    expect(await session.waitForFrame("hello")).toMatchObject({ satelliteId: SATELLITE_ID });
    welcome(session, [], 20);
    await session.waitForFrame("heartbeat");
  });

  it("takes a core that stops answering pings for dead and reconnects", async () => {
    await startAgent({ autoPong: false });
    const first = await core.session(0);
    welcome(first, [], 20);
    await first.closed;
    const second = await core.session(1);
    expect(await second.waitForFrame("hello")).toMatchObject({ satelliteId: SATELLITE_ID });
  });
});
