// Proves the results routes page a check's results through the API and answer its stats, with
// query strings validated at the edge.
import type { Hono } from "hono";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckResultRoutes, ingestResults } from "../../../src/checks/index.ts";
import { createRollupWorker } from "../../../src/checks/results/maintenance/rollup-worker.ts";
import { silentLogger } from "../../../src/log.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createResultsDatabase, ingestContext, makeResult, minuteAgo } from "../../support/checks/check-results.ts";

let pool: pg.Pool;
let app: Hono;
const checkId = "00000000-0000-4000-8000-0000000000d4";

beforeAll(async () => {
  pool = await createResultsDatabase("result-routes");
  app = await createApiApp(pool, { "/checks": createCheckResultRoutes({ pool }) });
  const context = ingestContext(pool);
  await ingestResults(
    pool,
    Array.from({ length: 12 }, (_, i) => makeResult({ checkId, at: minuteAgo(12 - i), status: i % 4 === 0 ? "down" : "up", durationMs: 100 })),
    context,
  );
  await createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions }).runOnce();
});

afterAll(async () => {
  await pool?.end();
});

describe("GET /api/v1/checks/:id/results", () => {
  it("pages the results newest first and lists recent failures", async () => {
    const first = await callApi<{ results: Array<{ status: string; startedAt: string }>; next: string }>(
      app,
      "GET",
      `/api/v1/checks/${checkId}/results?limit=5`,
    );
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(5);
    const second = await callApi<{ results: Array<{ startedAt: string }> }>(app, "GET", `/api/v1/checks/${checkId}/results?limit=5&cursor=${first.body.next}`);
    expect(Date.parse(second.body.results[0]!.startedAt)).toBeLessThan(Date.parse(first.body.results[4]!.startedAt));

    const failures = await callApi<{ results: Array<{ status: string }> }>(app, "GET", `/api/v1/checks/${checkId}/results?status=down,error`);
    expect(failures.body.results.map((result) => result.status)).toEqual(["down", "down", "down"]);
  });

  it("refuses an unknown status or parameter, and answers 404 for an id that is no uuid", async () => {
    expect((await callApi(app, "GET", `/api/v1/checks/${checkId}/results?status=sideways`)).status).toBe(400);
    expect((await callApi(app, "GET", `/api/v1/checks/${checkId}/results?offset=10`)).status).toBe(400);
    expect((await callApi(app, "GET", `/api/v1/checks/${checkId}/results?cursor=bogus`)).body).toMatchObject({ error: { code: "invalid_cursor" } });
    expect((await callApi(app, "GET", "/api/v1/checks/not-a-check/results")).status).toBe(404);
  });
});

describe("GET /api/v1/checks/:id/stats", () => {
  it("answers the last 24 hours by default, from the 1-minute rollups", async () => {
    const stats = await callApi<{ level: string; locations: Array<{ location: string; counts: { total: number; down: number }; availability: number }> }>(
      app,
      "GET",
      `/api/v1/checks/${checkId}/stats`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.level).toBe("1m");
    expect(stats.body.locations).toMatchObject([{ location: "core", counts: { total: 12, down: 3 }, availability: 0.75 }]);
  });

  it("refuses a range that ends before it starts", async () => {
    const answer = await callApi(app, "GET", `/api/v1/checks/${checkId}/stats?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z`);
    expect(answer.status).toBe(400);
  });
});
