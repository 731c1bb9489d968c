// The checks' metrics as Prometheus reads them on /metrics: results stored by check type and
// status (from the core location and from satellites alike), ingest batch sizes, and the core
// location's scheduler lag (slot → start), after real runs through the scheduler and the ingest.
import { randomBytes, randomUUID } from "node:crypto";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSatelliteResultSink } from "../../src/checks/assignments/satellite-result-sink.ts";
import { CheckStore } from "../../src/checks/definitions/check-store.ts";
import { createResultIngest, type ResultIngest } from "../../src/checks/results/ingest/result-ingest.ts";
import { createResultMetrics } from "../../src/checks/results/result-metrics.ts";
import { storeCheckSource } from "../../src/checks/scheduling/check-source.ts";
import { type CoreLocation, createCoreLocation } from "../../src/checks/scheduling/core-location.ts";
import { createSecretBox } from "../../src/crypto/secret-box.ts";
import { createAdminTokenVerifier } from "../../src/auth/index.ts";
import { createCoreApp } from "../../src/core-app.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { silentLogger } from "../../src/log.ts";
import { ingestContext } from "../support/checks/check-results.ts";
import { insertCheck } from "../support/checks/check-rows.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestInstance, type TestInstance } from "../support/instance.ts";

let instance: TestInstance;
let ingest: ResultIngest;
let location: CoreLocation;
let app: Hono;

beforeAll(async () => {
  instance = await startTestInstance((await createTestDatabase()).url, "check-metrics");
  const metrics = createMetrics({ collectProcessMetrics: false });
  ingest = createResultIngest({
    pool: instance.pool,
    logger: silentLogger(),
    context: ingestContext(instance.pool),
    metrics: createResultMetrics(metrics.registry),
  });
  location = createCoreLocation({
    pool: instance.pool,
    hub: instance.hub,
    logger: silentLogger(),
    registry: metrics.registry,
    instanceId: "check-metrics",
    now: Date.now,
    runProbe: async () => ({ status: "degraded", detail: { reason: "slow" } }),
    source: storeCheckSource(new CheckStore({ pool: instance.pool, box: createSecretBox(randomBytes(32)) })),
    ingest,
  });
  app = createCoreApp({
    logger: silentLogger(),
    metrics,
    readiness: async () => ({ ready: true, checks: {} }),
    instanceId: "check-metrics",
    verifyAdmin: createAdminTokenVerifier({ pool: instance.pool }),
    modules: [],
  });
});

afterAll(async () => {
  await location?.stop();
  await ingest?.stop();
  await instance?.stop();
});

/** The value of one sample line of /metrics, e.g. `vantage_check_results_total{type="http",status="up"}`. */
async function sample(series: string): Promise<number | undefined> {
  const text = await (await app.request("/metrics")).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics for checks", () => {
  it("exports results by type and status at zero before any result", async () => {
    expect(await sample('vantage_check_results_total{type="dns",status="error"}')).toBe(0);
    expect(await sample('vantage_check_runs_total{type="tls",status="up"}')).toBe(0);
  });

  it("counts scheduled core runs by type and status, their scheduler lag and the ingest batches", async () => {
    // Its first slot is at a random offset within its interval: up to 10 s from now.
    await insertCheck(instance.pool, { intervalSeconds: 10 });
    await location.start();
    await vi.waitUntil(async () => (await sample('vantage_check_results_total{type="http",status="degraded"}')) === 1, { timeout: 20_000, interval: 50 });
    expect(await sample('vantage_check_runs_total{type="http",status="degraded"}')).toBe(1);
    expect(await sample("vantage_check_scheduler_lag_seconds_count")).toBe(1);
    expect(await sample("vantage_check_result_ingest_batch_size_count")).toBeGreaterThanOrEqual(1);
    expect(await sample("vantage_check_result_ingest_batch_size_sum")).toBeGreaterThanOrEqual(1);
  });

  it("counts a satellite's results under its check's type, or `unknown` when the core does not hold the check", async () => {
    const known = randomUUID();
    const sink = createSatelliteResultSink(
      (result) => ingest.submit(result),
      (checkId) => (checkId === known ? "http" : undefined),
    );
    const frame = (checkId: string) => ({
      type: "result" as const,
      resultId: randomUUID(),
      checkId,
      startedAt: new Date().toISOString(),
      durationMs: 5,
      status: "down" as const,
      detail: {},
    });
    await Promise.all([sink(randomUUID(), frame(known)), sink(randomUUID(), frame(randomUUID()))]);
    expect(await sample('vantage_check_results_total{type="http",status="down"}')).toBe(1);
    expect(await sample('vantage_check_results_total{type="unknown",status="down"}')).toBe(1);
  });
});
