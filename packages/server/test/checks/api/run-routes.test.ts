// Runs on demand through the API, on the core location: a stored check run now answers with its
// result and stores it; an unsaved definition (JSON or YAML) runs and stores nothing; bad
// definitions, unknown checks and unknown locations are refused before anything runs. (Runs on
// satellites: test/checks/satellite-runs/satellite-runs.test.ts.)
import { randomBytes, randomUUID } from "node:crypto";
import type { ProbeSpec } from "@vantage/protocol";
import type { Hono } from "hono";
import type pg from "pg";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCheckRunRoutes } from "../../../src/checks/api/run-routes.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import { createCoreLocationMetrics } from "../../../src/checks/scheduling/core-location-metrics.ts";
import { type CoreRunResult, createCoreRuns } from "../../../src/checks/scheduling/core-runs.ts";
import { CheckStore } from "../../../src/checks/definitions/check-store.ts";
import { validateCheck } from "../../../src/checks/definitions/validate-check.ts";
import { storeCheckSource } from "../../../src/checks/scheduling/check-source.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { callApi, createApiApp, TEST_ADMIN_TOKEN } from "../../support/api/api-app.ts";
import { ingestContext } from "../../support/checks/check-results.ts";
import { insertCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;
let app: Hono;
let probed: ProbeSpec[];
let ingested: CoreRunResult[];
let ingest: ResultIngest;

beforeEach(async () => {
  pool = createPool((await createTestDatabase()).url, silentLogger(), { max: 4 });
  probed = [];
  ingested = [];
  ingest = createResultIngest({ pool, logger: silentLogger(), context: ingestContext(pool) });
  const runs = createCoreRuns({
    // Reports what it was asked to probe, so a test can tell which definition ran.
    runProbe: (spec) => {
      probed.push(spec);
      return Promise.resolve({ status: "down", detail: { reason: `probed ${spec.type === "http" ? spec.url : spec.type}` } });
    },
    source: storeCheckSource(new CheckStore({ pool, box: createSecretBox(randomBytes(32)) })),
    ingest: {
      submit: async (result) => {
        const outcome = await ingest.submit(result);
        ingested.push(result);
        return outcome;
      },
    },
    metrics: createCoreLocationMetrics(new Registry()),
    logger: silentLogger(),
    now: Date.now,
  });
  const noSatellites = () => Promise.reject(new Error("no satellite runs in this test"));
  app = await createApiApp(pool, {
    "/checks": createCheckRunRoutes({
      runs,
      satellites: { runStored: noSatellites, runTrial: noSatellites },
      source: storeCheckSource(new CheckStore({ pool, box: createSecretBox(randomBytes(32)) })),
      validate: (body, { onCore }) => validateCheck(body, null, { allowPrivateTargets: !onCore }),
    }),
  });
});

afterEach(async () => {
  await ingest.stop();
  await pool.end();
});

const checkCount = async () => (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM checks")).rows[0]!.n;

describe("POST /api/v1/checks/:id/run", () => {
  it("runs the stored check once from the core, answers with the result and stores it", async () => {
    const id = await insertCheck(pool, { url: "http://127.0.0.1:9/health" });
    const answer = await callApi<{ result: CoreRunResult }>(app, "POST", `/api/v1/checks/${id}/run`);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ checkId: id, location: "core", status: "down", detail: { reason: "probed http://127.0.0.1:9/health" } });
    expect(answer.body.result.resultId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(answer.body.result.startedAt)).not.toBeNaN();
    expect(ingested).toEqual([{ ...answer.body.result, checkType: "http" }]);
    const { rows } = await pool.query("SELECT result_id, location, status FROM check_results WHERE check_id = $1", [id]);
    expect(rows).toEqual([{ result_id: answer.body.result.resultId, location: "core", status: "down" }]);
  });

  it("reports a stored definition it cannot open as the core's error, without probing", async () => {
    const id = await insertCheck(pool);
    await pool.query(`UPDATE checks SET definition = jsonb_set(definition, '{headers}', '{"Authorization": {"sealed": "v1:opaque"}}') WHERE id = $1`, [id]);
    const answer = await callApi<{ result: CoreRunResult }>(app, "POST", `/api/v1/checks/${id}/run`);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({
      checkId: id,
      status: "error",
      durationMs: 0,
      errorCode: "definition_unreadable",
      detail: { error: { code: "definition_unreadable" } },
    });
    expect(ingested).toEqual([{ ...answer.body.result, checkType: "http" }]);
    expect(probed).toEqual([]);
  });

  it("accepts location=core, and answers a location that is neither the core nor a satellite id as an unknown satellite", async () => {
    const id = await insertCheck(pool);
    expect((await callApi(app, "POST", `/api/v1/checks/${id}/run?location=core`)).status).toBe(200);
    const answer = await callApi(app, "POST", `/api/v1/checks/${id}/run?location=eu-west`);
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: "satellite_not_found", message: expect.stringContaining('No location is called "eu-west"') });
    expect(probed).toHaveLength(1);
  });

  it("answers 404 for an unknown or malformed check id", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const answer = await callApi(app, "POST", `/api/v1/checks/${id}/run`);
      expect(answer.status).toBe(404);
      expect(answer.body.error).toMatchObject({ code: "check_not_found" });
    }
    expect(probed).toEqual([]);
  });

  it("refuses a caller without the admin token", async () => {
    const id = await insertCheck(pool);
    expect((await callApi(app, "POST", `/api/v1/checks/${id}/run`, undefined, null)).status).toBe(401);
    expect(probed).toEqual([]);
  });
});

describe("POST /api/v1/checks/test", () => {
  it("runs an unsaved JSON definition once and stores nothing", async () => {
    const answer = await callApi(app, "POST", "/api/v1/checks/test", { name: "trial", type: "http", url: "http://127.0.0.1:9/try" });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ location: "core", status: "down", detail: { reason: "probed http://127.0.0.1:9/try" } });
    expect(probed[0]).toMatchObject({ type: "http", method: "GET", expectStatus: ["2xx"], timeoutMs: 10_000 });
    expect(ingested).toEqual([]);
    expect(await checkCount()).toBe(0);
    expect((await pool.query("SELECT 1 FROM check_results")).rows).toEqual([]);
  });

  it("takes the definition as YAML", async () => {
    const response = await app.request("/api/v1/checks/test", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/yaml" },
      body: "name: trial\ntype: tcp\nhost: 127.0.0.1\nport: 9\n",
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { result: { detail: { reason: string } } }).result.detail.reason).toBe("probed tcp");
  });

  it("refuses an invalid definition with the path of each problem, running nothing", async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: "trial", type: "http" }, "url"],
      [{ name: "trial", type: "smtp", host: "x" }, "type"],
      [{ name: "trial", type: "http", url: "http://x/", assertions: [{ subject: "dns.rcode", op: "eq", value: "NOERROR" }] }, "assertions.0.subject"],
      [{ name: "trial", type: "http", url: "http://x/", intervalSeconds: 10, timeoutMs: 20_000 }, "timeoutMs"],
      // Tested as it would be saved: the core may not probe cloud metadata.
      [{ name: "trial", type: "http", url: "http://169.254.169.254/latest/meta-data/" }, "url"],
    ];
    for (const [definition, path] of cases) {
      const answer = await callApi<{ error: { code: string; details: { issues: Array<{ path: string }> } } }>(app, "POST", "/api/v1/checks/test", definition);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("invalid_check");
      expect(answer.body.error.details.issues.map((issue) => issue.path)).toContain(path);
    }
    expect(probed).toEqual([]);
  });

  it("refuses hostile bodies and queries at the edge, running nothing", async () => {
    const deep = await app.request("/api/v1/checks/test", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/yaml" },
      body: "[".repeat(2_000) + "]".repeat(2_000),
    });
    expect(deep.status).toBe(400);
    const nul = await callApi(app, "POST", "/api/v1/checks/test", { name: "trial\u0000", type: "tcp", host: "127.0.0.1", port: 9 });
    expect(nul.status).toBe(400);
    const query = await callApi(app, "POST", "/api/v1/checks/test?location=%00&extra=1", { name: "trial", type: "tcp", host: "127.0.0.1", port: 9 });
    expect(query.status).toBe(400);
    expect(query.body.error).toMatchObject({ code: "invalid_query" });
    expect(probed).toEqual([]);
  });

  it("answers an unknown location as an unknown satellite, running nothing", async () => {
    const answer = await callApi(app, "POST", "/api/v1/checks/test?location=CORE", { name: "trial", type: "tcp", host: "127.0.0.1", port: 9 });
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: "satellite_not_found" });
    expect(probed).toEqual([]);
  });
});
