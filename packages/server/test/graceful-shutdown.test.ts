// Graceful shutdown with real `vantage server` processes on one database: a SIGTERM during a
// slow webhook step, and a rolling restart of two cores under 200 satellites.
import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AutomationStore } from "../src/automations/definitions/automation-store.ts";
import { createSecretBox } from "../src/crypto/secret-box.ts";
import { createEntityRegistry } from "../src/entities/index.ts";
import { silentLogger } from "../src/log.ts";
import { SatelliteRegistry, SatelliteService } from "../src/satellites/index.ts";
import { createPool } from "../src/storage/index.ts";
import { satelliteCompiler } from "./support/automations/satellite-compiler.ts";
import { type HttpReceiver, startHttpReceiver } from "./support/network/receivers.ts";
import { createTestDatabase } from "./support/database.ts";
import { connectFakeSatellite, type FakeSatellite, openFakeSatellite, type SatelliteCredentials } from "./support/satellites/fake-satellite.ts";
import { createSignal, waitFor } from "./support/instance.ts";
import { startVantageServer, type VantageProcess } from "./support/process.ts";

const ADMIN_TOKEN = "graceful-shutdown-admin-token";
const SECRET_KEY = randomBytes(32).toString("hex");
/** Fast heartbeats so thresholds (and the test) can be short. */
const HEARTBEAT_INTERVAL_MS = 1_000;
/** The agent's own patience for a welcome (HELLO_TIMEOUT_MS + 5 s). */
const WELCOME_TIMEOUT_MS = 15_000;

let databaseUrl: string;
let pool: pg.Pool;
let store: AutomationStore;
let satellites: SatelliteService;
let registry: SatelliteRegistry;
const cores: VantageProcess[] = [];

beforeEach(async () => {
  databaseUrl = (await createTestDatabase()).url;
  pool = createPool(databaseUrl, silentLogger(), { max: 4 });
  store = new AutomationStore(pool, createSecretBox(Buffer.from(SECRET_KEY, "hex")));
  satellites = new SatelliteService({ pool, entities: createEntityRegistry({ pool, logger: silentLogger() }) });
  registry = new SatelliteRegistry({ pool, satellites });
});

afterEach(async () => {
  for (const core of cores.splice(0)) {
    if (core.child.exitCode === null) core.child.kill("SIGKILL");
    await core.exited;
  }
  await pool.end();
});

/** How long a core may take to start on a busy machine. */
const START_TIMEOUT_MS = 90_000;

async function startCore(): Promise<{ server: VantageProcess; url: string }> {
  const started = await startVantageServer(
    ["--port", "0"],
    {
      DATABASE_URL: databaseUrl,
      VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN,
      VANTAGE_SECRET_KEY: SECRET_KEY,
      VANTAGE_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
    },
    {},
    START_TIMEOUT_MS,
  );
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
  const result = satelliteCompiler().compiler.compile({ name: `graceful-${randomUUID().slice(0, 8)}`, ...definition });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return (await store.create(result.compiled)).id;
}

/**
 * Registers satellites that share one token (only one hash to compute; every hello still
 * verifies it): the first through the registry, the others with its stored token hash.
 */
async function createSatellites(count: number, offlineThresholdMs: number): Promise<SatelliteCredentials[]> {
  const name = () => `fleet-${randomUUID().slice(0, 8)}`;
  const { satellite, token } = await registry.create({ name: name(), region: "eu-west", offlineThresholdMs });
  const { rows } = await pool.query<{ token_hash: string }>("SELECT token_hash FROM satellites WHERE id = $1", [satellite.id]);
  const others = await Promise.all(
    Array.from({ length: count - 1 }, () => satellites.create({ name: name(), region: "eu-west", offlineThresholdMs, tokenHash: rows[0]!.token_hash })),
  );
  return [satellite.id, ...others].map((satelliteId) => ({ satelliteId, token }));
}

/** Resolves once any of the cores, running or stopped, logged a matching line. */
const loggedByAny = (processes: VantageProcess[], predicate: (line: Record<string, unknown>) => boolean) =>
  Promise.any(processes.map((core) => core.waitForLog(predicate, 60_000)));

const count = async (sql: string, params: unknown[] = []) => (await pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe("a core stopped with SIGTERM during a slow webhook step", () => {
  let receiver: HttpReceiver;
  beforeEach(async () => {
    receiver = await startHttpReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("tells its satellites first, aborts the step, exits 0, and another core completes the run exactly once", { timeout: 120_000 }, async () => {
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
    expect((await pool.query("SELECT step_path, status FROM automation_run_steps WHERE run_id = $1", [run.id])).rows).toEqual([
      { step_path: "actions.0", status: "running" },
    ]);
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

/**
 * In-process satellites behind a stand-in load balancer: each connects to the core `target`
 * names, heartbeats, and when a core closes its socket reconnects to the current target —
 * unless it is one that never comes back.
 */
interface Fleet {
  /** The core each satellite is connected to now (undefined between sockets). */
  coreOf(satelliteId: string): string | undefined;
  /** Emits after every welcome and every failed reconnect. */
  changed: ReturnType<typeof createSignal>;
  /** Reconnects that failed for good, with why. */
  failures: string[];
  /** Closes every socket and reconnects no more. */
  stop(): Promise<void>;
}

async function startFleet(members: SatelliteCredentials[], target: () => string, options: { neverReturns: Set<string> }): Promise<Fleet> {
  const changed = createSignal();
  const sockets = new Map<string, { satellite: FakeSatellite; core: string }>();
  const settling = new Set<Promise<void>>();
  const failures: string[] = [];
  let stopped = false;

  const connect = async (member: SatelliteCredentials): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const core = target();
      let satellite: FakeSatellite | undefined;
      try {
        satellite = await openFakeSatellite(core, { credentials: member });
        satellite.hello();
        // As patient as the agent: a welcome given up on would close the socket, a real disconnect.
        const answer = await satellite.nextWhere((frame) => frame.type === "welcome" || frame.type === "rejected", WELCOME_TIMEOUT_MS);
        if (answer.type !== "welcome") throw new Error(`refused: ${JSON.stringify(answer)}`);
        const open = satellite;
        sockets.set(member.satelliteId, { satellite: open, core });
        changed.emit();
        void open.closed.then(() => {
          sockets.delete(member.satelliteId);
          if (stopped || options.neverReturns.has(member.satelliteId)) return;
          const reconnecting = connect(member).catch((error: unknown) => {
            failures.push(`${member.satelliteId}: ${String(error)}`);
            changed.emit();
          });
          settling.add(reconnecting);
          void reconnecting.finally(() => settling.delete(reconnecting));
        });
        return;
      } catch (error) {
        await satellite?.terminate();
        // A core answering 503 while it stops: the balancer sends the next try elsewhere.
        if (stopped || attempt === 20) throw error;
      }
    }
  };

  // 20 hellos at a time: each costs the core a credential check.
  for (let index = 0; index < members.length; index += 20) await Promise.all(members.slice(index, index + 20).map(connect));
  const heartbeating = setInterval(() => {
    for (const { satellite } of sockets.values()) if (satellite.ws.readyState === satellite.ws.OPEN) satellite.heartbeat();
  }, HEARTBEAT_INTERVAL_MS);

  return {
    coreOf: (satelliteId) => sockets.get(satelliteId)?.core,
    changed,
    failures,
    async stop() {
      stopped = true;
      clearInterval(heartbeating);
      await Promise.allSettled(settling);
      await Promise.all([...sockets.values()].map(({ satellite }) => satellite.close()));
    },
  };
}

describe("a rolling restart of two cores under 200 satellites", () => {
  it(
    "pages nobody: no satellite event, no run, no skip; a satellite that does not come back is heartbeat_lost exactly once",
    { timeout: 300_000 },
    async () => {
      const onConnection = await saveAutomation({
        triggers: [{ event: "satellite.connected" }, { event: "satellite.disconnected" }],
        actions: [{ log: { message: "connection event of {{ trigger.payload.name }}" } }],
        mode: "parallel",
        maxRuns: 1000,
      });
      const onLost = await saveAutomation({
        triggers: [{ event: "satellite.heartbeat_lost" }],
        actions: [{ log: { message: "lost {{ trigger.payload.satelliteId }}" } }],
      });
      // Long enough for 200 reconnects at once (each hello costs a credential check) on a busy machine.
      const fleet = await createSatellites(200, 60_000);
      const [vanishing] = await createSatellites(1, 2 * HEARTBEAT_INTERVAL_MS);
      const all = [...fleet, vanishing!];

      // Two cores behind the balancer, and the one that replaces them (a deploy with one spare).
      const [a, b, c] = await Promise.all([startCore(), startCore(), startCore()]);
      let balancer = [a.url, b.url];
      let next = 0;
      const agents = await startFleet(all, () => balancer[next++ % balancer.length]!, { neverReturns: new Set([vanishing!.satelliteId]) });
      const everyOneOn = (urls: string[]) =>
        waitFor(
          () => agents.failures.length > 0 || fleet.every((member) => urls.includes(agents.coreOf(member.satelliteId) ?? "")),
          agents.changed.subscribe,
          120_000,
          `every satellite on ${urls.join(" or ")}`,
        );
      try {
        // Each core in turn leaves the balancer and stops; its satellites move to the one serving.
        balancer = [b.url, c.url];
        expect(await terminate(a.server)).toBe(0);
        await everyOneOn([b.url, c.url]);
        expect(agents.failures).toEqual([]);
        balancer = [c.url];
        expect(await terminate(b.server)).toBe(0);
        await everyOneOn([c.url]);
        expect(agents.failures).toEqual([]);

        // The satellite that did not come back is reported by whichever core monitored then.
        await loggedByAny(cores, (line) => line.msg === `lost ${vanishing!.satelliteId}`);
        // A first connect after the restart: once its run is decided, every change before it was routed.
        const [latecomer] = await createSatellites(1, 20_000);
        const { satellite: late } = await connectFakeSatellite(c.url, latecomer!);
        const view = await registry.get(latecomer!.satelliteId);
        await loggedByAny(cores, (line) => line.msg === `connection event of ${view.name}`);

        // Read while every satellite is still connected: closing the fleet and the latecomer
        // afterwards records real disconnects (and runs), which are not under test here.
        // Each satellite's only recorded change is its first connect; the vanished one's loss is its second.
        const { rows: changes } = await pool.query<{ entity_id: string; events: string[] }>(
          "SELECT entity_id, array_agg(next ->> 'lastEvent' ORDER BY seq) AS events FROM entity_changes GROUP BY entity_id",
        );
        const eventsOf = new Map(changes.map((row) => [row.entity_id, row.events]));
        expect(fleet.map((member) => eventsOf.get(member.satelliteId)).filter((events) => events?.join() !== "connected")).toEqual([]);
        expect(eventsOf.get(vanishing!.satelliteId)).toEqual(["connected", "heartbeat_lost"]);
        // The connection automation ran for the 202 first connects only (the latecomer's too), and
        // skipped nothing: the latecomer's run was decided, so every change before it was routed.
        expect(await count("SELECT count(*)::int AS n FROM automation_runs WHERE automation_id = $1", [onConnection])).toBe(fleet.length + 2);
        expect(await count("SELECT count(*)::int AS n FROM automation_skips WHERE automation_id = $1", [onConnection])).toBe(0);
        expect(await count("SELECT count(*)::int AS n FROM automation_runs WHERE automation_id = $1", [onLost])).toBe(1);
        await late.close();
      } finally {
        await agents.stop();
      }

      expect(await terminate(c.server)).toBe(0);
    },
  );
});
