// The HTTP app's health endpoints, request metrics by route pattern, and a JSON 404 for unknown routes.
import { describe, expect, it } from "vitest";
import { createApp, type Readiness } from "../src/http/app.ts";
import { createMetrics } from "../src/http/metrics.ts";
import { silentLogger } from "../src/log.ts";

function appWith(readiness: Readiness) {
  return createApp({
    logger: silentLogger(),
    metrics: createMetrics({ collectProcessMetrics: false }),
    readiness: async () => readiness,
    instanceId: "test-instance",
  });
}

const READY: Readiness = { ready: true, checks: { database: { ok: true } } };

describe("health endpoints", () => {
  it("GET /healthz answers alive with the instance id", async () => {
    const response = await appWith(READY).request("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", instanceId: "test-instance" });
  });

  it("GET /readyz is 200 when ready and 503 with the reason when not", async () => {
    expect((await appWith(READY).request("/readyz")).status).toBe(200);
    const notReady = await appWith({ ready: false, checks: { database: { ok: false, detail: "connection refused" } } }).request("/readyz");
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: "not_ready", checks: { database: { ok: false, detail: "connection refused" } } });
  });

  it("GET /metrics exposes request durations by route pattern and status", async () => {
    const app = appWith(READY);
    await app.request("/healthz");
    await app.request("/api/v1/no/such/route");
    const body = await (await app.request("/metrics")).text();
    expect(body).toContain('vantage_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1');
    expect(body).toContain('route="unmatched",status="404"');
  });

  it("answers an unknown route with a JSON 404", async () => {
    const response = await appWith(READY).request("/api/v1/nothing");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
