// Runs on demand on a satellite through the API, two core instances on one database with real
// gateways and the real agent in process: a stored check runs now on a satellite held by this
// core or by the other (relayed by NOTIFY), its credential headers opened, and its result is
// answered and stored once; `/test` runs there and stores nothing; an offline satellite, an
// agent too old for `run` frames and a satellite that never answers are refused with their codes.
import { randomBytes, randomUUID } from "node:crypto";
import { checkDefinitionSchema, type CheckDefinitionInput } from "@vantage/protocol";
import { loadSatelliteConfig, run } from "@vantage/satellite";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createCheckRunRoutes } from "../../../src/checks/api/run-routes.ts";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { validateCheck } from "../../../src/checks/definitions/validate-check.ts";
import { type CheckResults, startCheckResults } from "../../../src/checks/results/start-check-results.ts";
import { createSatelliteRuns, type SatelliteRuns } from "../../../src/checks/satellite-runs/satellite-runs.ts";
import { storeCheckSource } from "../../../src/checks/scheduling/check-source.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite, type FakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { startHttpReceiver, type HttpReceiver } from "../../support/network/receivers.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";

// Every core of a cluster has the same key: it seals the check a relayed request carries.
const box = createSecretBox(randomBytes(32));
const MARGIN_MS = 300;

interface Node {
  core: SatelliteCore;
  runs: SatelliteRuns;
  results: CheckResults;
  app: Hono;
}

let a: Node;
let b: Node;
let store: CheckStore;
let target: HttpReceiver;
const agents: Array<{ stop: AbortController; outcome: Promise<unknown> }> = [];
const fakes: FakeSatellite[] = [];

async function startNode(url: string, name: string): Promise<Node> {
  const core = await startSatelliteCore(url, name, { monitor: false, assignments: true });
  const results = startCheckResults({ pool: core.pool, logger: silentLogger() });
  const runs = createSatelliteRuns({
    pool: core.pool,
    hub: core.hub,
    logger: silentLogger(),
    box,
    instanceId: name,
    satellites: core.registry,
    session: (id) => core.gateway.session(id),
    ingest: results.ingest,
    marginMs: MARGIN_MS,
  });
  await runs.start();
  const source = storeCheckSource(new CheckStore({ pool: core.pool, box }));
  const noCoreRuns = () => Promise.reject(new Error("no core runs in this test"));
  const app = await createApiApp(core.pool, {
    "/checks": createCheckRunRoutes({
      runs: { runStored: noCoreRuns, runTrial: noCoreRuns },
      satellites: runs,
      source,
      validate: (body, { onCore }) => validateCheck(body, null, { allowPrivateTargets: !onCore }),
    }),
  });
  return { core, runs, results, app };
}

beforeAll(async () => {
  const url = (await createTestDatabase()).url;
  a = await startNode(url, "runs-a");
  b = await startNode(url, "runs-b");
  store = new CheckStore({ pool: a.core.pool, box });
  target = await startHttpReceiver();
});

afterAll(async () => {
  for (const agent of agents) agent.stop.abort();
  await Promise.all(agents.map((agent) => agent.outcome));
  await Promise.all(fakes.map((fake) => fake.close()));
  for (const node of [a, b]) {
    await node?.core.gateway.stop();
    await node?.runs.stop();
    await node?.results.stop();
    await node?.core.stop();
  }
  await target?.close();
});

/** A satellite with the real agent (in process, the standard probes) connected to `node`'s gateway. */
async function agentOn(node: Node): Promise<string> {
  const { satelliteId, token } = await node.core.createSatellite();
  const stop = new AbortController();
  const config = loadSatelliteConfig({
    VANTAGE_URL: node.core.url,
    VANTAGE_SATELLITE_ID: satelliteId,
    VANTAGE_SATELLITE_TOKEN: token,
    VANTAGE_LOG_LEVEL: "silent",
  });
  const outcome = run(config, { signal: stop.signal, stopOnSignals: [], random: () => 0 });
  agents.push({ stop, outcome });
  await vi.waitUntil(() => node.core.gateway.session(satelliteId) !== undefined, { timeout: 10_000, interval: 10 });
  // Presence is read from the row: online once its connect was written (before the welcome).
  expect((await node.core.registry.get(satelliteId)).status).toBe("online");
  return satelliteId;
}

/** A stored http check against the local target, with a credential header sealed at rest. */
async function storedCheck(overrides: Partial<CheckDefinitionInput> = {}): Promise<string> {
  const check = await store.create(
    checkDefinitionSchema.parse({
      name: `run-${randomUUID()}`,
      type: "http",
      url: `${target.origin}/health`,
      headers: { Authorization: "Bearer s3cret" },
      ...overrides,
    }),
  );
  return check.id;
}

const storedRows = async (checkId: string) =>
  (await a.core.pool.query("SELECT result_id, location, status FROM check_results WHERE check_id = $1 ORDER BY started_at", [checkId])).rows;

describe("POST /api/v1/checks/:id/run?location=<satellite>", () => {
  it("runs the check on a satellite held by this core, headers opened, and answers and stores its result once", async () => {
    const satelliteId = await agentOn(a);
    const checkId = await storedCheck();
    const requestsBefore = target.requests.length;
    const answer = await callApi<{ result: { resultId: string; location: string; status: string; checkId: string; statusCode: number } }>(
      a.app,
      "POST",
      `/api/v1/checks/${checkId}/run?location=${satelliteId}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ checkId, location: satelliteId, status: "up", statusCode: 200, detail: { http: { statusCode: 200 } } });
    const request = target.requests.slice(requestsBefore).find((candidate) => candidate.path === "/health");
    expect(request?.headers.authorization).toBe("Bearer s3cret");
    await a.results.ingest.flush();
    expect(await storedRows(checkId)).toEqual([{ result_id: answer.body.result.resultId, location: satelliteId, status: "up" }]);
  });

  it("runs it on a satellite held by another core, relayed there and back, and stores it once", async () => {
    const satelliteId = await agentOn(b);
    const checkId = await storedCheck();
    target.answerNext({ status: 503, body: "down for maintenance" });
    const answer = await callApi<{ result: { resultId: string } }>(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${satelliteId.toUpperCase()}`);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({
      checkId,
      location: satelliteId,
      status: "down",
      statusCode: 503,
      detail: { reason: expect.stringContaining("503") },
    });
    // Stored by the core holding the socket, before it answered.
    expect(await storedRows(checkId)).toEqual([{ result_id: answer.body.result.resultId, location: satelliteId, status: "down" }]);
  });

  it("answers 409 satellite_offline for a satellite that is not connected, and 404 for an unknown one", async () => {
    const checkId = await storedCheck();
    const { satelliteId } = await a.core.createSatellite();
    const offline = await callApi(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${satelliteId}`);
    expect(offline.status).toBe(409);
    expect(offline.body.error).toMatchObject({ code: "satellite_offline", message: expect.stringContaining("is offline (not connected)") });
    const unknown = await callApi(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "satellite_not_found" });
    expect(await storedRows(checkId)).toEqual([]);
  });

  it("answers 409 satellite_upgrade_required for an agent that does not announce run frames, sending it none", async () => {
    const credentials = await b.core.createSatellite();
    const { satellite } = await connectFakeSatellite(b.core.url, credentials, { version: "0.0.9", capabilities: ["http"] });
    fakes.push(satellite);
    const checkId = await storedCheck();
    const answer = await callApi(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${credentials.satelliteId}`);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "satellite_upgrade_required", message: expect.stringContaining("agent version 0.0.9") });
    expect(satellite.received.filter((frame) => frame.type === "run")).toEqual([]);
  });

  it("answers 504 satellite_run_timeout when the satellite never answers, and stores nothing (held here or elsewhere)", async () => {
    for (const holder of [a, b]) {
      const credentials = await holder.core.createSatellite();
      const { satellite } = await connectFakeSatellite(holder.core.url, credentials, { capabilities: ["http", "run-on-demand"] });
      fakes.push(satellite);
      const checkId = await storedCheck({ timeoutMs: 100 });
      const answer = await callApi(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${credentials.satelliteId}`);
      expect(answer.status).toBe(504);
      expect(answer.body.error).toMatchObject({ code: "satellite_run_timeout", message: expect.stringContaining("nothing was stored") });
      // It was asked, with the check's id, and never answered.
      expect(await satellite.next("run")).toMatchObject({ check: { checkId, type: "http", timeoutMs: 100 } });
      expect(await storedRows(checkId)).toEqual([]);
    }
  });

  it("answers 409 satellite_offline when the satellite disconnects during the run", async () => {
    const credentials = await b.core.createSatellite();
    const { satellite } = await connectFakeSatellite(b.core.url, credentials, { capabilities: ["http", "run-on-demand"] });
    const checkId = await storedCheck({ timeoutMs: 5_000 });
    const answering = callApi(a.app, "POST", `/api/v1/checks/${checkId}/run?location=${credentials.satelliteId}`);
    await satellite.next("run");
    await satellite.terminate();
    const answer = await answering;
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "satellite_offline", message: expect.stringContaining("disconnected before it answered") });
  });
});

describe("POST /api/v1/checks/test?location=<satellite>", () => {
  it("runs an unsaved definition on a satellite held by another core and stores nothing", async () => {
    const satelliteId = await agentOn(b);
    const before = (await a.core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM check_results")).rows[0]!.n;
    const answer = await callApi(a.app, "POST", `/api/v1/checks/test?location=${satelliteId}`, { name: "trial", type: "http", url: `${target.origin}/trial` });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ location: satelliteId, status: "up", detail: { http: { statusCode: 200 } } });
    expect(target.requests.some((request) => request.path === "/trial")).toBe(true);
    await a.results.ingest.flush();
    await b.results.ingest.flush();
    expect((await a.core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM check_results")).rows[0]!.n).toBe(before);
  });

  it("lets a satellite probe a link-local target the core would refuse", async () => {
    const credentials = await a.core.createSatellite();
    const { satellite } = await connectFakeSatellite(a.core.url, credentials, { capabilities: ["http", "run-on-demand"] });
    fakes.push(satellite);
    const answering = callApi(a.app, "POST", `/api/v1/checks/test?location=${credentials.satelliteId}`, {
      name: "trial",
      type: "http",
      url: "http://169.254.169.254/",
    });
    const frame = await satellite.next("run");
    satellite.send({
      type: "runResult",
      requestId: frame.requestId,
      result: { startedAt: new Date().toISOString(), durationMs: 3, status: "up", detail: { reason: "reached" } },
    });
    const answer = await answering;
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ location: credentials.satelliteId, status: "up", durationMs: 3 });
    // An unsaved check has no id: the request's stands in for it.
    expect(frame.check.checkId).toBe(frame.requestId);
  });
});
