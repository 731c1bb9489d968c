// The agent against the real core: the gateway of `startCore` over a real PostgreSQL, the
// agent as a real process (both command forms) and, where timing matters, in-process.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Assignment, EntityChanged, ResultFrame } from "@vantage/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../server/src/log.ts";
import { type Core, startCore } from "../../server/src/main.ts";
import { createTestDatabase, type TestDatabase } from "../../server/test/support/database.ts";
import { createSignal, waitFor } from "../../server/test/support/instance.ts";
import { runVantage } from "../../server/test/support/process.ts";
import { startHttpReceiver } from "../../server/test/support/network/receivers.ts";
import { collectRouted, type RoutedChanges } from "../../server/test/support/entities/routed-changes.ts";
import { startSatelliteCore } from "../../server/test/support/satellites/satellite-core.ts";
import { loadSatelliteConfig } from "../src/config.ts";
import { CREDENTIALS_REJECTED_MESSAGE } from "../src/connection.ts";
import { run } from "../src/main.ts";
import { createProbeRegistry } from "../src/probes/registry.ts";
import { captureLogs } from "./support/capture-logs.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

const SATELLITE_BIN = fileURLToPath(new URL("../bin/vantage-satellite.js", import.meta.url));
const BUILD_STANDALONE = fileURLToPath(new URL("../scripts/build-standalone.mjs", import.meta.url));

let database: TestDatabase;
let core: Core;
const changes: EntityChanged[] = [];
let routed: RoutedChanges;
const changed = createSignal();

beforeAll(async () => {
  database = await createTestDatabase();
  core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl: database.url, dataDir: os.tmpdir(), heartbeatIntervalMs: 500 }, silentLogger());
  routed = collectRouted(core.router);
  core.liveFeed.subscribe((change) => {
    changes.push(change);
    changed.emit();
  });
});

afterAll(async () => {
  await core?.stop();
});

async function createSatellite(name: string) {
  const { satellite, token } = await core.registry.create({ name, region: "eu-west" });
  return { satelliteId: satellite.id, token };
}

/** Resolves once the satellite's connection entity changed to `lastEvent`. */
async function lastEventBecomes(satelliteId: string, lastEvent: string) {
  const seen = () => changes.some((change) => change.id === satelliteId && (change.next as { lastEvent?: string } | null)?.lastEvent === lastEvent);
  await waitFor(seen, changed.subscribe, 15_000, `${lastEvent} of ${satelliteId}`);
}

function startAgentProcess(satellite: { satelliteId: string; token: string }, form: "vantage-satellite" | "vantage satellite" = "vantage-satellite") {
  const args = ["--url", core.url, "--id", satellite.satelliteId, "--token", satellite.token];
  return form === "vantage-satellite" ? runVantage(args, {}, { bin: SATELLITE_BIN }) : runVantage(["satellite", ...args]);
}

describe("a satellite process against the core", () => {
  it("connects and reads online; on SIGTERM says bye, exits 0 and reads disconnected", async () => {
    const satellite = await createSatellite("edge-process");
    const agent = startAgentProcess(satellite);
    await agent.waitForLog((line) => line.msg === "connected to the core");
    expect(await core.satellites.connection.get(satellite.satelliteId)).toMatchObject({ status: "online", lastEvent: "connected", name: "edge-process" });
    expect(await routed.events(satellite.satelliteId, 1)).toEqual(["satellite.connected"]);

    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    await lastEventBecomes(satellite.satelliteId, "disconnected");
    expect(await core.satellites.connection.get(satellite.satelliteId)).toMatchObject({ status: "offline", lastEvent: "disconnected" });
    expect(agent.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(["stopping: saying bye to the core", "stopped"]));
    expect(JSON.stringify(agent.logs) + agent.stderr()).not.toContain(satellite.token);
  });

  it("is reported disconnected exactly once when the agent process is killed with SIGKILL", async () => {
    const satellite = await createSatellite("edge-killed");
    const agent = startAgentProcess(satellite);
    await agent.waitForLog((line) => line.msg === "connected to the core");
    agent.child.kill("SIGKILL");
    expect(await agent.exited).toBe("SIGKILL");
    await routed.lastIs(satellite.satelliteId, "satellite.disconnected");
    expect(routed.eventsOf(satellite.satelliteId)).toEqual(["satellite.connected", "satellite.disconnected"]);
    expect(await core.satellites.connection.get(satellite.satelliteId)).toMatchObject({ status: "offline", lastEvent: "disconnected" });
  });

  it.each(["vantage-satellite", "vantage satellite"] as const)("exits with code 2 and a clear message on bad credentials (%s)", async (form) => {
    const agent = startAgentProcess({ satelliteId: randomUUID(), token: `vsat_${"x".repeat(43)}` }, form);
    expect(await agent.exited).toBe(2);
    const fatal = agent.logs.filter((line) => line.level === 60);
    expect(fatal.map((line) => line.msg)).toEqual([CREDENTIALS_REJECTED_MESSAGE]);
  });

  it("exits with code 2 when its token is rotated on the core", async () => {
    const satellite = await createSatellite("edge-rotated");
    const agent = startAgentProcess(satellite, "vantage satellite");
    await agent.waitForLog((line) => line.msg === "connected to the core");
    await core.registry.rotateToken(satellite.satelliteId);
    expect(await agent.exited).toBe(2);
    expect(agent.logs.find((line) => line.level === 60)?.msg).toContain("token was rotated");
  });

  it("exits with code 2 and names the problem when its configuration is invalid", async () => {
    const agent = runVantage(["--url", "core.example", "--id", "nope"], { VANTAGE_SATELLITE_TOKEN: "" }, { bin: SATELLITE_BIN });
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toContain("--url (or VANTAGE_URL) must be an http(s):// or ws(s):// URL");
    expect(agent.stderr()).toContain("--token (or VANTAGE_SATELLITE_TOKEN) is required");
  });
});

describe("an agent whose core restarts", () => {
  it("re-sends the results the first core never acknowledged to the core that replaces it", async () => {
    const check: Assignment = { checkId: "check-1", name: "check 1", type: "fake", intervalSeconds: 3_600, timeoutMs: 1_000, config: {} };
    const stored: ResultFrame[] = [];
    const storedSignal = createSignal();
    const first = await startSatelliteCore(database.url, "core-first", {
      gateway: { assignmentsFor: async () => [check], resultSink: () => Promise.reject(new Error("disk full")) },
    });
    const proxy = await startTcpProxy(Number(new URL(first.url).port));
    const satellite = await first.createSatellite({ name: "edge-resend" });

    const logs = captureLogs();
    const probes = createProbeRegistry();
    probes.register("fake", async () => ({ status: "up", detail: {} }));
    const stopper = new AbortController();
    const config = loadSatelliteConfig({ VANTAGE_URL: proxy.url, VANTAGE_SATELLITE_ID: satellite.satelliteId, VANTAGE_SATELLITE_TOKEN: satellite.token });
    const outcome = run(config, {
      logger: logs.logger,
      probes,
      random: () => 0,
      signal: stopper.signal,
      stopOnSignals: [],
      backoff: { baseMs: 50, maxMs: 200 },
    });
    let second: Awaited<ReturnType<typeof startSatelliteCore>> | undefined;
    try {
      const refused = await logs.waitFor((line) => line.code === "result_not_stored");
      await first.stop();

      second = await startSatelliteCore(database.url, "core-second", {
        gateway: {
          assignmentsFor: async () => [check],
          resultSink: async (_satelliteId, result) => {
            stored.push(result);
            storedSignal.emit();
          },
        },
      });
      proxy.retarget(Number(new URL(second.url).port));
      expect(await logs.waitFor((line) => line.msg === "connected to the core" && line.resending === 1)).toBeTruthy();
      await waitFor(() => stored.length > 0, storedSignal.subscribe, 10_000, "the re-sent result");
      await logs.waitFor((line) => line.msg === "results acknowledged" && line.unacknowledged === 0);

      expect(stored).toHaveLength(1);
      expect(refused.detail).toContain(stored[0]!.resultId);
      expect(stored[0]).toMatchObject({ checkId: "check-1", status: "up" });
    } finally {
      stopper.abort();
      expect(await outcome).toEqual({ exitCode: 0, reason: "stopped" });
      await second?.stop();
      await first.stop();
      await proxy.stop();
    }
  });
});

/**
 * A core whose gateway assigns every satellite one http check (`<name>-http`, every 0.2 s, status
 * 200 expected) of a target that answers 200, and keeps the results it receives; a satellite
 * registered on it (`edge-<name>`).
 */
async function startHttpCheckCore(name: string) {
  const target = await startHttpReceiver();
  const check: Assignment = {
    checkId: `${name}-http`,
    name: `${name} http`,
    type: "http",
    intervalSeconds: 0.2,
    timeoutMs: 2_000,
    config: { type: "http", url: `${target.origin}/health`, timeoutMs: 2_000, assertions: [{ subject: "status", op: "eq", value: 200 }] },
  };
  const stored: ResultFrame[] = [];
  const storedSignal = createSignal();
  const satelliteCore = await startSatelliteCore(database.url, `core-${name}`, {
    gateway: {
      assignmentsFor: async () => [check],
      resultSink: async (_satelliteId, result) => {
        stored.push(result);
        storedSignal.emit();
      },
    },
  });
  const satellite = await satelliteCore.createSatellite({ name: `edge-${name}` });
  return { target, stored, storedSignal, satelliteCore, satellite };
}

describe("the standalone agent (npm run build:satellite)", () => {
  it("runs as one file outside the checkout: connects, runs its http check and reports it up", { timeout: 60_000 }, async () => {
    // Built into a directory with no node_modules on its way up: every dependency is in the file.
    const dir = await mkdtemp(join(os.tmpdir(), "vantage-standalone-"));
    const bundle = join(dir, "vantage-satellite.mjs");
    await promisify(execFile)(process.execPath, [BUILD_STANDALONE, "--outfile", bundle]);
    const { target, stored, storedSignal, satelliteCore, satellite } = await startHttpCheckCore("standalone");
    const agent = runVantage(["--url", satelliteCore.url, "--id", satellite.satelliteId, "--token", satellite.token], {}, { bin: bundle, cwd: dir });
    try {
      await agent.waitForLog((line) => line.msg === "connected to the core");
      await waitFor(() => stored.some((result) => result.status === "up"), storedSignal.subscribe, 15_000, "an up result");
      expect(stored.find((result) => result.status === "up")).toMatchObject({ checkId: "standalone-http", detail: { http: { statusCode: 200 } } });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toBe(0);
    } finally {
      agent.child.kill("SIGKILL");
      await satelliteCore.stop();
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("an agent running an http check", () => {
  it("reports the target up, and down with the failing assertion's expected and actual once it stops", async () => {
    const { target, stored, storedSignal, satelliteCore, satellite } = await startHttpCheckCore("http");
    const stopper = new AbortController();
    const config = loadSatelliteConfig({
      VANTAGE_URL: satelliteCore.url,
      VANTAGE_SATELLITE_ID: satellite.satelliteId,
      VANTAGE_SATELLITE_TOKEN: satellite.token,
    });
    // The default registry: the agent's own http, tcp, dns and tls probes.
    const outcome = run(config, { logger: captureLogs().logger, random: () => 0, signal: stopper.signal, stopOnSignals: [] });
    let targetOpen = true;
    try {
      await waitFor(() => stored.some((result) => result.status === "up"), storedSignal.subscribe, 10_000, "an up result");
      expect(stored.find((result) => result.status === "up")).toMatchObject({
        checkId: "http-http",
        detail: { http: { statusCode: 200 }, assertions: [{ subject: "status", expected: 200, actual: 200, pass: true }] },
      });

      await target.close();
      targetOpen = false;
      // A run in flight as the server closed may fail otherwise (a reset); the next ones are refused.
      const refused = (result: ResultFrame) => result.status === "down" && result.detail.error?.code === "connection_refused";
      await waitFor(() => stored.some(refused), storedSignal.subscribe, 10_000, "a down result");
      expect(stored.find(refused)).toMatchObject({
        checkId: "http-http",
        detail: {
          error: { code: "connection_refused" },
          assertions: [{ path: "assertions[0]", subject: "status", op: "eq", expected: 200, pass: false, onFail: "fail" }],
        },
      });
    } finally {
      stopper.abort();
      expect(await outcome).toEqual({ exitCode: 0, reason: "stopped" });
      await satelliteCore.stop();
      if (targetOpen) await target.close();
    }
  });
});
