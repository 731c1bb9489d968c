// Proves GET /checks/summaries answers a page of checks' health and 24 h uptime bars in one
// request (the checks list's rows), in the order asked, and refuses a query it cannot serve.
import type { Hono } from "hono";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestResults } from "../../../src/checks/index.ts";
import { createCheckSummaryRoutes } from "../../../src/checks/api/summary-routes.ts";
import type { CheckHealthState } from "../../../src/checks/health/check-health-entity.ts";
import { createRollupWorker } from "../../../src/checks/results/maintenance/rollup-worker.ts";
import { silentLogger } from "../../../src/log.ts";
import { callApi, createApiApp } from "../../support/api/api-app.ts";
import { createResultsDatabase, ingestContext, makeResult, minuteAgo } from "../../support/checks/check-results.ts";

let pool: pg.Pool;
let app: Hono;
const busy = "00000000-0000-4000-8000-0000000000e1";
const quiet = "00000000-0000-4000-8000-0000000000e2";
const HEALTHY: CheckHealthState = {
  status: "healthy",
  since: "2030-01-01T00:00:00.000Z",
  reason: "all locations up",
  locations: { core: { status: "healthy", since: "2030-01-01T00:00:00.000Z", lastResultAt: "2030-01-01T00:00:00.000Z" } },
  flapping: false,
  maintenance: false,
  name: "busy",
  type: "http",
  target: "https://example.com/",
  labels: {},
};
const asked: string[][] = [];

beforeAll(async () => {
  pool = await createResultsDatabase("summary-routes");
  const health = {
    getMany: async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => id === busy).map((id) => [id, HEALTHY]));
    },
  };
  app = await createApiApp(pool, { "/checks": createCheckSummaryRoutes({ pool, health }) });
  const context = ingestContext(pool);
  await ingestResults(
    pool,
    Array.from({ length: 4 }, (_, i) => makeResult({ checkId: busy, at: minuteAgo(4 - i), status: i === 0 ? "down" : "up" })),
    context,
  );
  await createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions }).runOnce();
});

afterAll(async () => {
  await pool?.end();
});

interface Summaries {
  range: string;
  segmentSeconds: number;
  summaries: Array<{ checkId: string; health: CheckHealthState | null; bars: Array<{ total: number; up: number; down: number }>; p95Ms: Array<number | null> }>;
}

describe("GET /api/v1/checks/summaries", () => {
  it("answers each check's health and 24 hourly segments, in the order asked, with one batched health read", async () => {
    asked.length = 0;
    const answer = await callApi<Summaries>(app, "GET", `/api/v1/checks/summaries?id=${quiet}&id=${busy.toUpperCase()}`);
    expect(answer.status).toBe(200);
    expect(answer.body.range).toBe("24h");
    expect(answer.body.segmentSeconds).toBe(3600);
    expect(answer.body.summaries.map((summary) => summary.checkId)).toEqual([quiet, busy]);
    expect(asked).toEqual([[quiet, busy]]);
    const [quietSummary, busySummary] = answer.body.summaries;
    expect(quietSummary!.health).toBeNull();
    expect(quietSummary!.bars).toHaveLength(24);
    expect(quietSummary!.bars.every((segment) => segment.total === 0)).toBe(true);
    expect(busySummary!.health).toMatchObject({ status: "healthy" });
    const counted = busySummary!.bars.reduce((sum, segment) => ({ total: sum.total + segment.total, down: sum.down + segment.down }), { total: 0, down: 0 });
    expect(counted).toEqual({ total: 4, down: 1 });
    // The sparkline: null where the segment has no result, a p95 where it has timed ones. (Near
    // the top of an hour the down result, which has no latency, can sit alone in its segment:
    // results but no p95 there.)
    expect(quietSummary!.p95Ms).toEqual(Array(24).fill(null));
    expect(busySummary!.p95Ms.filter((p95, i) => p95 !== null && busySummary!.bars[i]!.total === 0)).toEqual([]);
    expect(busySummary!.p95Ms.filter((p95, i) => p95 === null && busySummary!.bars[i]!.up > 0)).toEqual([]);
    expect(busySummary!.p95Ms.some((p95) => typeof p95 === "number" && p95 > 0)).toBe(true);
  });

  it("answers 90 daily segments for range=90d", async () => {
    const answer = await callApi<Summaries>(app, "GET", `/api/v1/checks/summaries?id=${busy}&range=90d`);
    expect(answer.body.segmentSeconds).toBe(86_400);
    expect(answer.body.summaries[0]!.bars).toHaveLength(90);
  });

  it("refuses no ids, an id that is no uuid, an unknown range or parameter, and more ids than a page", async () => {
    const tooMany = Array.from({ length: 201 }, (_, i) => `id=00000000-0000-4000-8000-${String(i).padStart(12, "0")}`).join("&");
    for (const query of ["", "?id=nope", `?id=${busy}&range=1y`, `?id=${busy}&limit=5`, `?${tooMany}`]) {
      const answer = await callApi(app, "GET", `/api/v1/checks/summaries${query}`);
      expect(answer.status, query.slice(0, 40)).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: "invalid_query" } });
    }
  });
});
