// Issue #12's acceptance with real processes: two `vantage server` cores and three real
// `vantage-satellite` agents on one PostgreSQL, all on 127.0.0.1. One http check observed by the
// three with quorum 2: one failing location is degraded, two unhealthy (one check.unhealthy to an
// automation's webhook), recovery one check.recovered; SIGKILLed agents make it unknown with no
// page but one satellite.heartbeat_lost each, naming the check. A heartbeat check whose pings
// stop is unhealthy once, recorded by the surviving core after the one that saw its last ping died.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVantage, startVantageServer, type VantageProcess } from "../support/process.ts";
import { type HttpReceiver, startHttpReceiver } from "../support/network/receivers.ts";
import { startTcpProxy, type TcpProxy } from "../support/network/tcp-proxy.ts";
import { createTestDatabase } from "../support/database.ts";
import { pollUntil } from "../support/poll.ts";

const SATELLITE_BIN = fileURLToPath(new URL("../../../satellite/bin/vantage-satellite.js", import.meta.url));
const HOSTS_PRELOAD = fileURLToPath(new URL("../support/network/hosts-preload.mjs", import.meta.url));
const ADMIN_TOKEN = "health-acceptance-admin-token";
const SECRET_KEY = randomBytes(32).toString("hex");
/** The shortest interval a check may have: each verdict below takes a run or two. */
const INTERVAL_MS = 10_000;
const START_TIMEOUT_MS = 90_000;
/** The satellites' offline threshold (their heartbeat comes every second). */
const OFFLINE_THRESHOLD_MS = 3_000;
const TARGET_HOST = "target.vantage.test";

interface Satellite {
  id: string;
  name: string;
  agent: VantageProcess;
  /** Where this agent resolves TARGET_HOST: 127.0.0.1 (the target), or 127.0.0.2 (nothing listens: refused). */
  reach(reachable: boolean): void;
}

const cores: VantageProcess[] = [];
const coreUrls: string[] = [];
let satellites: Satellite[] = [];
let target: HttpReceiver;
/** Between the agents and core 1: once the agents are killed it keeps their sockets open and silent. */
let proxy: TcpProxy;
let hooks: HttpReceiver;
const hostsDir = mkdtempSync(join(tmpdir(), "vantage-hosts-"));

beforeAll(async () => {
  const databaseUrl = (await createTestDatabase()).url;
  const env = { DATABASE_URL: databaseUrl, VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN, VANTAGE_SECRET_KEY: SECRET_KEY, VANTAGE_HEARTBEAT_INTERVAL_MS: "1000" };
  // One core first (it migrates), then the second.
  for (let index = 0; index < 2; index += 1) {
    const { server, url } = await startVantageServer(["--port", "0"], env, {}, START_TIMEOUT_MS);
    cores.push(server);
    coreUrls.push(url);
  }
  [target, hooks, proxy] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startTcpProxy(coreUrls[0]!)]);
  satellites = await Promise.all(["eu-1", "us-1", "ap-1"].map((name) => startSatellite(name)));
}, 3 * START_TIMEOUT_MS);

afterAll(async () => {
  for (const process of [...satellites.map((satellite) => satellite.agent), ...cores]) {
    if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill("SIGKILL");
    await process.exited;
  }
  await Promise.all([target, hooks, proxy].map((closable) => closable?.close().catch(() => undefined)));
}, 60_000);

async function api<Body = unknown>(method: string, path: string, body?: unknown, core = 0): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${coreUrls[core]}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as Body };
}

async function startSatellite(name: string): Promise<Satellite> {
  const created = await api<{ id: string; token: string }>("POST", "/satellites", { name, region: name, offlineThresholdMs: OFFLINE_THRESHOLD_MS });
  expect(created.status).toBe(201);
  const hostsFile = join(hostsDir, `${name}.json`);
  const reach = (reachable: boolean) => writeFileSync(hostsFile, JSON.stringify({ [TARGET_HOST]: reachable ? "127.0.0.1" : "127.0.0.2" }));
  reach(true);
  const agent = runVantage(
    ["--url", proxy.url, "--id", created.body.id, "--token", created.body.token],
    { NODE_OPTIONS: `--import ${HOSTS_PRELOAD}`, VANTAGE_TEST_HOSTS: hostsFile },
    { bin: SATELLITE_BIN },
  );
  await agent.waitForLog((line) => line.msg === "connected to the core", START_TIMEOUT_MS);
  return { id: created.body.id, name, agent, reach };
}

/** An automation whose webhook posts the trigger's payload to hooks at /<path>. */
async function hookOn(event: string, path: string): Promise<void> {
  const created = await api("POST", "/automations", {
    name: `hook-${path}`,
    triggers: [{ event }],
    mode: "parallel",
    actions: [{ webhook: { url: `${hooks.origin}/${path}` } }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
}

const hooksAt = (path: string) =>
  hooks.requests.filter((request) => request.path === `/${path}`).map((request) => JSON.parse(request.body) as Record<string, unknown>);

interface Health {
  status: string;
  reason: string;
  locations: Record<string, { status: string }>;
}

const healthOf = async (checkId: string, core = 0) => (await api<Health>("GET", `/checks/${checkId}/health`, undefined, core)).body;
const untilStatus = (checkId: string, status: string, timeoutMs = 4 * INTERVAL_MS, core = 0) =>
  pollUntil(
    () => healthOf(checkId, core),
    (health) => health.status === status,
    timeoutMs,
    `the check to be ${status}`,
  );

describe("three real agents observing one http check with quorum 2", () => {
  it(
    "is degraded with one failing location, pages once when two fail and once when they recover; killed agents make it unknown, paging once per satellite",
    { timeout: 300_000 },
    async () => {
      await Promise.all([
        hookOn("check.unhealthy", "unhealthy"),
        hookOn("check.recovered", "recovered"),
        hookOn("check.unknown", "unknown"),
        hookOn("satellite.heartbeat_lost", "lost"),
      ]);
      const created = await api<{ id: string }>("POST", "/checks", {
        name: "storefront",
        type: "http",
        url: `${target.origin.replace("127.0.0.1", TARGET_HOST)}/health`,
        intervalSeconds: INTERVAL_MS / 1000,
        timeoutMs: 2_000,
        runOn: { core: false, satellites: { ids: satellites.map((satellite) => satellite.id) } },
        health: { policy: { quorum: 2 }, failuresToUnhealthy: 1, successesToRecover: 1, graceSeconds: 5 },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const checkId = created.body.id;
      const [eu, us] = satellites as [Satellite, Satellite, Satellite];
      const allLocations = (health: Health, status: string) => satellites.every((satellite) => health.locations[satellite.id]?.status === status);

      await pollUntil(
        () => healthOf(checkId),
        (health) => health.status === "healthy" && allLocations(health, "healthy"),
        4 * INTERVAL_MS,
        "three healthy locations",
      );

      eu.reach(false);
      const degraded = await untilStatus(checkId, "degraded");
      expect(degraded.reason).toMatch(/^partial outage: 1 of 3 locations failing: eu-1 \(/);

      us.reach(false);
      const unhealthy = await untilStatus(checkId, "unhealthy");
      expect(unhealthy.reason).toMatch(/^2 of 3 locations failing: eu-1 \(.*\), us-1 \(/);
      await pollUntil(
        async () => hooksAt("unhealthy"),
        (bodies) => bodies.length >= 1,
        30_000,
        "the check.unhealthy webhook",
      );

      eu.reach(true);
      us.reach(true);
      await untilStatus(checkId, "healthy");
      await pollUntil(
        async () => hooksAt("recovered"),
        (bodies) => bodies.length >= 1,
        30_000,
        "the check.recovered webhook",
      );

      // Killed as a host dies: no FIN reaches the core (a close would be recorded `disconnected`), its heartbeats just stop.
      proxy.holdTargetsOpen();
      for (const satellite of satellites) satellite.agent.child.kill("SIGKILL");
      await Promise.all(satellites.map((satellite) => satellite.agent.exited));
      const unknown = await untilStatus(checkId, "unknown", 30_000);
      expect(Object.values(unknown.locations).map((location) => location.status)).toEqual(["unobservable", "unobservable", "unobservable"]);
      expect(unknown.reason).toMatch(/^no location can observe the check: /);
      const lost = await pollUntil(
        async () => hooksAt("lost"),
        (bodies) => bodies.length >= 3,
        30_000,
        "three satellite.heartbeat_lost webhooks",
      );
      expect(lost.map((body) => body.satelliteId).sort()).toEqual(satellites.map((satellite) => satellite.id).sort());
      for (const body of lost) expect(body.affectedChecks).toEqual({ count: 1, names: ["storefront"] });
      await pollUntil(
        async () => hooksAt("unknown"),
        (bodies) => bodies.length >= 1,
        30_000,
        "the check.unknown webhook",
      );

      // Exactly one page each way, and none for the outage of the agents.
      expect(hooksAt("unhealthy")).toHaveLength(1);
      expect(hooksAt("unhealthy")[0]).toMatchObject({ checkId, name: "storefront", status: "unhealthy" });
      expect(hooksAt("recovered")).toHaveLength(1);
      expect(hooksAt("lost")).toHaveLength(3);
    },
  );
});

describe("a heartbeat check whose pings stop", () => {
  it("is unhealthy once, recorded by the surviving core after the core that took its last ping was SIGKILLed", { timeout: 180_000 }, async () => {
    await hookOn("check.unhealthy", "hb-unhealthy");
    const created = await api<{ id: string; pingUrl: string }>("POST", "/checks", {
      name: "nightly-backup",
      type: "heartbeat",
      periodSeconds: 30,
      graceSeconds: 2,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const checkId = created.body.id;
    const pinged = await fetch(`${coreUrls[0]}${created.body.pingUrl}`, { method: "POST" });
    expect(pinged.status).toBe(200);
    expect((await healthOf(checkId, 1)).status).toBe("healthy");

    cores[0]!.child.kill("SIGKILL");
    await cores[0]!.exited;
    // Due at lastPing + 30 s + 2 s; recorded by core 1's deadline monitor within 2 s of that.
    const unhealthy = await untilStatus(checkId, "unhealthy", 60_000, 1);
    expect(unhealthy.reason).toMatch(/^1 of 1 locations failing: push \(no ping since /);
    await pollUntil(
      async () => hooksAt("hb-unhealthy"),
      (bodies) => bodies.length >= 1,
      30_000,
      "the heartbeat check's check.unhealthy webhook",
    );
    expect(hooksAt("hb-unhealthy")).toHaveLength(1);
    expect(hooksAt("hb-unhealthy")[0]).toMatchObject({ checkId, name: "nightly-backup", type: "heartbeat", status: "unhealthy" });
  });
});
