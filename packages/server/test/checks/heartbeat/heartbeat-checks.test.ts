// Heartbeat (push) checks through the API and the ping URLs: the token shown once (on create and
// rotate) and stored hashed; a ping is a result at location push through the ingest; /fail and
// /start; an unknown token is a 404, limited per address; a missed deadline is unhealthy, once.
import type { Hono } from "hono";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClientAddressOf } from "../../../src/auth/index.ts";
import { createTriggerRegistry } from "../../../src/automations/index.ts";
import { CheckStore, createCheckRoutes } from "../../../src/checks/index.ts";
import { type CheckHealth, createCheckHealth, evaluateHealthOnIngest } from "../../../src/checks/health/check-health.ts";
import { createSummaryReader } from "../../../src/checks/api/summary-routes.ts";
import { createCheckDeadlineMonitor } from "../../../src/checks/health/deadline-monitor.ts";
import { createPingRoutes } from "../../../src/checks/heartbeat/ping-routes.ts";
import { createResultIngest, type ResultIngest } from "../../../src/checks/results/ingest/result-ingest.ts";
import type { DeadlineMonitor } from "../../../src/cluster/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { callApi, createModulesApp } from "../../support/api/api-app.ts";
import { ingestContext } from "../../support/checks/check-results.ts";
import { createTestDatabase } from "../../support/database.ts";
import { startTestInstance, type TestInstance } from "../../support/instance.ts";

let core: TestInstance;
let pool: pg.Pool;
let health: CheckHealth;
let ingest: ResultIngest;
let monitor: DeadlineMonitor;
let app: Hono;
let clock: number;

beforeEach(async () => {
  clock = Date.now();
  const db = await createTestDatabase();
  core = await startTestInstance(db.url, "heartbeat-checks");
  pool = core.pool;
  const now = () => clock;
  health = createCheckHealth({ pool, entities: core.entities, triggers: createTriggerRegistry(), now });
  ingest = createResultIngest({
    pool,
    logger: silentLogger(),
    context: ingestContext(pool, { now }),
    inTransaction: evaluateHealthOnIngest(health),
    maxDelayMs: 1,
  });
  monitor = createCheckDeadlineMonitor({ pool, health, logger: silentLogger(), now });
  const store = new CheckStore({ pool, box: createSecretBox(Buffer.alloc(32, 3)) });
  app = await createModulesApp(pool, [
    {
      routes: {
        "/checks": createCheckRoutes({
          store,
          allowPrivateTargets: false,
          pool,
          now,
          summaries: createSummaryReader({ pool, health: { getMany: async () => new Map() }, now }),
        }),
      },
      publicRoutes: {
        "/hb": createPingRoutes({ pool, ingest, now, clientAddressOf: createClientAddressOf(), unknownTokenLimit: { max: 3, windowMs: 60_000 } }),
      },
    },
  ]);
});

afterEach(async () => {
  await monitor?.stop();
  await ingest?.stop();
  await core?.stop();
});

interface Created {
  id: string;
  type: string;
  periodSeconds: number;
  graceSeconds: number;
  pingToken?: string;
  pingUrl?: string;
}

async function createHeartbeat(fields: Record<string, unknown> = {}): Promise<Created> {
  const answer = await callApi<Created>(app, "POST", "/api/v1/checks", {
    name: "nightly-backup",
    type: "heartbeat",
    periodSeconds: 60,
    graceSeconds: 30,
    ...fields,
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

/** A ping, unauthenticated (no admin token). */
const ping = (path: string, method = "GET") => callPing(path, method);
async function callPing(path: string, method: string) {
  const response = await app.request(path, { method });
  return { status: response.status, text: await response.text() };
}

const pushResults = async (checkId: string) =>
  (
    await pool.query<{ status: string; duration_ms: number }>(
      "SELECT status, duration_ms FROM check_results WHERE check_id = $1 AND location = 'push' ORDER BY started_at",
      [checkId],
    )
  ).rows;

describe("a heartbeat check", () => {
  it("is created with a ping token shown once and stored only as its SHA-256", async () => {
    const created = await createHeartbeat();
    expect(created).toMatchObject({ type: "heartbeat", periodSeconds: 60, graceSeconds: 30 });
    expect(created.pingToken).toMatch(/^vhb_[A-Za-z0-9_-]{43}$/);
    expect(created.pingUrl).toBe(`/hb/${created.pingToken}`);
    const read = await callApi(app, "GET", `/api/v1/checks/${created.id}`);
    expect(read.text).not.toContain(created.pingToken!);
    const { rows } = await pool.query<{ token_hash: Buffer }>("SELECT token_hash FROM check_ping_tokens WHERE check_id = $1", [created.id]);
    expect(rows[0]!.token_hash.toString("hex")).toHaveLength(64);
    expect(JSON.stringify(rows)).not.toContain(created.pingToken!);
  });

  it("refuses a period under 30 s or over 365 days", async () => {
    for (const periodSeconds of [29, 365 * 86_400 + 1]) {
      const answer = await callApi<{ error: { code: string } }>(app, "POST", "/api/v1/checks", {
        name: `hb-${periodSeconds}`,
        type: "heartbeat",
        periodSeconds,
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("invalid_check");
    }
    expect((await callApi(app, "POST", "/api/v1/checks", { name: "yearly", type: "heartbeat", periodSeconds: 365 * 86_400 })).status).toBe(201);
  });

  it("records a ping as a result at location push, through GET or POST, unauthenticated", async () => {
    const { id, pingToken } = await createHeartbeat();
    expect(await ping(`/hb/${pingToken}`)).toEqual({ status: 200, text: "OK\n" });
    clock += 1_000;
    expect((await ping(`/hb/${pingToken}`, "POST")).status).toBe(200);
    expect(await pushResults(id)).toEqual([
      { status: "up", duration_ms: 0 },
      { status: "up", duration_ms: 0 },
    ]);
    expect(await health.handle.get(id)).toMatchObject({ status: "healthy", locations: { push: { status: "healthy" } } });
  });

  it("measures a run from /start to the next ping, and /fail makes it unhealthy at once", async () => {
    const { id, pingToken } = await createHeartbeat();
    expect((await ping(`/hb/${pingToken}/start`)).status).toBe(200);
    clock += 4_250;
    expect((await ping(`/hb/${pingToken}/fail`)).status).toBe(200);
    expect(await pushResults(id)).toEqual([{ status: "down", duration_ms: 4_250 }]);
    expect((await health.handle.get(id))?.status).toBe("unhealthy");
    clock += 1_000;
    await ping(`/hb/${pingToken}`);
    expect((await health.handle.get(id))?.status).toBe("healthy");
  });

  it("answers 404 for an unknown token, and 429 once one address tried too many", async () => {
    await createHeartbeat();
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await ping(`/hb/vhb_${"x".repeat(43)}`)).status).toBe(404);
    expect((await ping("/hb/not-even-a-token")).status).toBe(429);
  });

  it("stops answering to a rotated token; the new one works", async () => {
    const { id, pingToken } = await createHeartbeat();
    const rotated = await callApi<{ pingToken: string; pingUrl: string }>(app, "POST", `/api/v1/checks/${id}/rotate-ping-token`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.pingToken).not.toBe(pingToken);
    expect((await ping(`/hb/${pingToken}`)).status).toBe(404);
    expect((await ping(rotated.body.pingUrl)).status).toBe(200);
  });

  it("has no ping token to rotate when it is not a heartbeat check", async () => {
    const http = await callApi<{ id: string }>(app, "POST", "/api/v1/checks", { name: "site", type: "http", url: "https://example.com/" });
    const answer = await callApi<{ error: { code: string } }>(app, "POST", `/api/v1/checks/${http.body.id}/rotate-ping-token`);
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("not_a_heartbeat_check");
  });

  it("is unhealthy once lastPing + period + grace passed, recorded once however many sweeps, and back with the next ping", async () => {
    const { id, pingToken } = await createHeartbeat({ periodSeconds: 60, graceSeconds: 30 });
    await ping(`/hb/${pingToken}`);
    const lastPing = clock;
    clock = lastPing + 90_000;
    await monitor.sweep();
    expect((await health.handle.get(id))?.status).toBe("healthy");

    clock += 1;
    await Promise.all([monitor.sweep(), monitor.sweep()]);
    await monitor.sweep();
    const state = await health.handle.get(id);
    expect(state).toMatchObject({ status: "unhealthy", locations: { push: { status: "unhealthy" } } });
    expect(state?.reason).toBe(`1 of 1 locations failing: push (no ping since ${new Date(lastPing).toISOString()})`);
    const events = (await health.handle.history(id)).reverse().flatMap((change) => core.entities.deriveEvents(change));
    expect(events.filter((event) => event === "check.unhealthy")).toHaveLength(1);

    clock += 5_000;
    await ping(`/hb/${pingToken}`);
    expect((await health.handle.get(id))?.status).toBe("healthy");
  });
});
