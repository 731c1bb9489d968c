// Graceful shutdown with real `vantage server` processes on one database: a SIGTERM during a
// slow webhook step, and a rolling restart of two cores under 200 satellites.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AutomationStore, compileAutomation } from "../src/automations/index.ts";
import { createSecretBox } from "../src/crypto/index.ts";
import { createEntityRegistry } from "../src/entities/index.ts";
import { silentLogger } from "../src/log.ts";
import { SatelliteRegistry, SatelliteService } from "../src/satellites/index.ts";
import { createPool } from "../src/storage/index.ts";
import { satelliteCompileOptions } from "./automations/compile-options.ts";
import { type HttpReceiver, startHttpReceiver } from "./notifications/receivers.ts";
import { createTestDatabase } from "./support/database.ts";
import { connectFakeSatellite, type FakeSatellite, type SatelliteCredentials } from "./support/fake-satellite.ts";
import { createSignal, waitFor } from "./support/instance.ts";
import { startVantageServer, type VantageProcess } from "./support/process.ts";

const ADMIN_TOKEN = "graceful-shutdown-admin-token";
const SECRET_KEY = randomBytes(32).toString("hex");
/** Fast heartbeats so thresholds (and the test) can be short. */
const HEARTBEAT_INTERVAL_MS = 500;

let databaseUrl: string;
let pool: pg.Pool;
let store: AutomationStore;
let registry: SatelliteRegistry;
const cores: VantageProcess[] = [];

beforeEach(async () => {
  databaseUrl = (await createTestDatabase()).url;
  pool = createPool(databaseUrl, silentLogger(), { max: 4 });
  store = new AutomationStore(pool, createSecretBox(Buffer.from(SECRET_KEY, "hex")));
  const satellites = new SatelliteService({ pool, entities: createEntityRegistry({ pool, logger: silentLogger() }) });
  registry = new SatelliteRegistry({ pool, satellites });
});

afterEach(async () => {
  for (const core of cores.splice(0)) {
    if (core.child.exitCode === null) core.child.kill("SIGKILL");
    await core.exited;
  }
  await pool.end();
});

async function startCore(): Promise<{ server: VantageProcess; url: string }> {
  const started = await startVantageServer(["--port", "0"], {
    DATABASE_URL: databaseUrl,
    VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN,
    VANTAGE_SECRET_KEY: SECRET_KEY,
    VANTAGE_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
  });
  cores.push(started.server);
  return started;
}

/** SIGTERM, as a supervisor stops a core; resolves with its exit code. */
async function terminate(core: VantageProcess): Promise<number | string> {
  core.child.kill("SIGTERM");
  return core.exited;
}

/** Saved straight into the database, so every core loads it at its start. */
async function saveAutomation(definition: Record<string, unknown>): Promise<string> {
  const result = compileAutomation({ name: `graceful-${randomUUID().slice(0, 8)}`, ...definition }, satelliteCompileOptions());
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return (await store.create(result.compiled)).id;
}

async function createSatellites(count: number, offlineThresholdMs: number): Promise<SatelliteCredentials[]> {
  const created: SatelliteCredentials[] = [];
  for (let index = 0; index < count; index += 10) {
    const batch = Array.from({ length: Math.min(10, count - index) }, (_, offset) =>
      registry.create({ name: `fleet-${randomUUID().slice(0, 8)}-${index + offset}`, region: "eu-west", offlineThresholdMs }),
    );
    for (const { satellite, token } of await Promise.all(batch)) created.push({ satelliteId: satellite.id, token });
  }
  return created;
}

const count = async (sql: string, params: unknown[] = []) => (await pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe("a core stopped with SIGTERM during a slow webhook step", () => {
  let receiver: HttpReceiver;
  beforeEach(async () => {
    receiver = await startHttpReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("tells its satellites first, aborts the step, exits 0, and another core completes the run exactly once", async () => {
    const automationId = await saveAutomation({
      // Started by hand below; no satellite in this test loses its heartbeat.
      triggers: [{ event: "satellite.heartbeat_lost" }],
      actions: [{ webhook: { url: `${receiver.origin}/slow`, timeoutMs: 60_000 } }, { log: { message: "resumed run {{ trigger.payload.name }} done" } }],
    });
    const first = await startCore();
    const { satellite } = await connectFakeSatellite(first.url, (await createSatellites(1, 60_000))[0]!);
    receiver.answer("hang");
    const started = await fetch(`${first.url}/api/v1/automations/${automationId}/run`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: { satelliteId: randomUUID(), name: "manual", region: "eu-west", status: "offline", lastSeenAt: null } }),
    });
    expect(started.status).toBe(202);
    const { run } = (await started.json()) as { run: { id: string } };
    await waitFor(() => receiver.requests.length === 1, receiver.subscribe, 20_000, "the webhook request");
    receiver.answer({ status: 200, body: "ok" });

    expect(await terminate(first.server)).toBe(0);
    expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "server_shutdown" });
    expect((await satellite.closed).code).toBe(1001);
    const messages = first.server.logs.map((line) => String(line.msg));
    const interrupted = messages.findIndex((message) => message.startsWith("interrupted by this core stopping"));
    expect(interrupted).toBeGreaterThan(messages.indexOf("satellite handed over: this core is shutting down"));
    // Left to resume at once: the step unrecorded, the job unlocked and due, the lease given up.
    expect((await pool.query("SELECT status FROM automation_runs WHERE id = $1", [run.id])).rows).toEqual([{ status: "running" }]);
    expect((await pool.query("SELECT step_path, status FROM automation_run_steps WHERE run_id = $1", [run.id])).rows).toEqual([{ step_path: "actions.0", status: "running" }]);
    expect(await count("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1 AND locked_by IS NULL AND run_at <= now()", [run.id])).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM job_worker_leases")).toBe(0);

    const second = await startCore();
    await second.server.waitForLog((line) => line.msg === "resumed run manual done", 20_000);
    expect(await terminate(second.server)).toBe(0);
    expect((await pool.query("SELECT status FROM automation_runs WHERE automation_id = $1", [automationId])).rows).toEqual([{ status: "succeeded" }]);
    expect(receiver.requests.map((request) => request.headers["idempotency-key"])).toEqual([`${run.id}:actions.0`, `${run.id}:actions.0`]);
    expect(second.server.logs.filter((line) => line.msg === "resumed run manual done")).toHaveLength(1);
  });
});
