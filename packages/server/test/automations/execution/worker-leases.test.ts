// Worker leases: held while a worker runs; when an instance dies its jobs are unlocked and its runs resume elsewhere, each request sent once.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AutomationWorker, createAutomationWorker } from "../../../src/automations/execution/automation-worker.ts";
import { createLeaseSweeper, type LeaseSweeper, renewLease, sweepExpiredLeases } from "../../../src/automations/execution/worker-leases.ts";
import { createRunExecutor, type RunEvent } from "../../../src/automations/execution/run-executor.ts";
import { listRuns } from "../../../src/automations/runs/automation-runs.ts";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import { createPool } from "../../../src/storage/index.ts";
import { startHttpReceiver, type HttpReceiver } from "../../support/network/receivers.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createSignal, type TestInstance, waitFor } from "../../support/instance.ts";
import { startTcpProxy, type TcpProxy } from "../../support/network/tcp-proxy.ts";
import { type AutomationRouting, startAutomationRouting } from "../../support/automations/automation-routing.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

const options = satelliteCompiler();
const engineLogger = () => (process.env.TEST_LOG ? pino({ level: "warn" }) : silentLogger());
const LEASE = { leaseTtlMs: 1_000, leaseRenewIntervalMs: 100 };

/** One core's automation engine: its own pool, executor, worker and lease sweeper. */
interface Engine {
  name: string;
  pool: pg.Pool;
  worker: AutomationWorker;
  sweeper: LeaseSweeper;
  events: RunEvent[];
  sweeps: Array<readonly string[]>;
  stop(): Promise<void>;
}

let db: TestDatabase;
let routing: AutomationRouting;
let router: TestInstance;
let receiver: HttpReceiver;
let proxy: TcpProxy;
let engines: Engine[];
const changed = createSignal();

beforeEach(async () => {
  engines = [];
  db = await createTestDatabase();
  routing = await startAutomationRouting(db.url, "leases-router", { onReload: () => changed.emit() });
  ({ core: router } = routing);
  receiver = await startHttpReceiver();
  receiver.subscribe(changed.emit);
  proxy = await startTcpProxy(db.url);
});

afterEach(async () => {
  // A "dead" engine talks to the database again only to shut down; its hanging request ends
  // when the receiver closes. The proxy closes once the engines closed their connections
  // (graphile-worker completes a job without awaiting it, so cutting them could fail that).
  proxy?.restore();
  await receiver?.close();
  for (const engine of engines.reverse()) await engine.stop();
  await proxy?.close();
  await routing?.stop();
});

/** Builds an engine as a core would; `url` is how it reaches the database. */
function createEngine(name: string, url: string): Engine {
  const pool = createPool(url, silentLogger(), { applicationName: name, max: 6 });
  const events: RunEvent[] = [];
  const sweeps: Array<readonly string[]> = [];
  const notifications = new NotificationService({ pool, box: createSecretBox(randomBytes(32)), senders: createNotificationSenders({ timeoutMs: 2_000 }) });
  const executor = createRunExecutor({
    pool,
    box: routing.box,
    ...options,
    entities: router.entities,
    notifications,
    logger: silentLogger(),
    retryDelayMs: () => 0,
    onEvent: (event) => {
      events.push(event);
      changed.emit();
    },
  });
  const worker = createAutomationWorker({
    connectionString: url,
    pool,
    instanceId: name,
    executor,
    logger: engineLogger().child({ engine: name }),
    concurrency: 2,
    pollIntervalMs: 50,
    ...LEASE,
  });
  const sweeper = createLeaseSweeper({
    pool,
    logger: silentLogger(),
    intervalMs: 100,
    orphanGraceMs: LEASE.leaseTtlMs,
    onSweep: (unlocked) => {
      sweeps.push(unlocked);
      changed.emit();
    },
  });
  const engine: Engine = {
    name,
    pool,
    worker,
    sweeper,
    events,
    sweeps,
    stop: async () => {
      await worker.stop();
      await sweeper.stop();
      await pool.end();
    },
  };
  engines.push(engine);
  return engine;
}

const saveAutomation = (actions: unknown[]) => routing.saveAutomation(actions);
const loseHeartbeat = () => routing.loseHeartbeat();

async function leases(): Promise<Array<{ worker_id: string; instance_id: string }>> {
  const { rows } = await router.pool.query<{ worker_id: string; instance_id: string }>(
    "SELECT worker_id, instance_id FROM job_worker_leases ORDER BY instance_id",
  );
  return rows;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

describe("job worker leases", () => {
  it("holds a lease while the worker runs and gives it up when it stops", async () => {
    const engine = createEngine("solo", db.url);
    await engine.worker.start();
    const workerId = engine.worker.workerId()!;
    expect(workerId).toMatch(/^pool-/);
    expect(await leases()).toEqual([{ worker_id: workerId, instance_id: "solo" }]);
    await engine.worker.stop();
    expect(await leases()).toEqual([]);
  });

  it("unlocks the jobs of expired leases and of lease-less stale locks, never those of a live lease", async () => {
    const pool = router.pool;
    await renewLease(pool, { workerId: "pool-live", instanceId: "live", ttlMs: 60_000 });
    await renewLease(pool, { workerId: "pool-dead", instanceId: "dead", ttlMs: 60_000 });
    await pool.query("UPDATE job_worker_leases SET lease_until = clock_timestamp() - interval '1 second' WHERE worker_id = 'pool-dead'");
    const lockedBy = ["pool-live", "pool-dead", "pool-orphan", "pool-starting"];
    for (const [i, worker] of lockedBy.entries()) {
      await pool.query("SELECT graphile_worker.add_job('lease.test', '{}'::json, job_key := $1)", [`job-${i}`]);
      // A lock without lease is stale only past the grace: "pool-starting" has yet to write its lease.
      const age = worker === "pool-starting" ? "0 seconds" : "1 minute";
      await pool.query(`UPDATE graphile_worker._private_jobs SET locked_by = $1, locked_at = clock_timestamp() - $2::interval WHERE key = $3`, [
        worker,
        age,
        `job-${i}`,
      ]);
    }
    const client = await pool.connect();
    try {
      expect((await sweepExpiredLeases(client, 10_000)).sort()).toEqual(["pool-dead", "pool-orphan"]);
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ key: string; locked_by: string | null }>("SELECT key, locked_by FROM graphile_worker.jobs ORDER BY key");
    expect(rows).toEqual([
      { key: "job-0", locked_by: "pool-live" },
      { key: "job-1", locked_by: null },
      { key: "job-2", locked_by: null },
      { key: "job-3", locked_by: "pool-starting" },
    ]);
    expect((await leases()).map((lease) => lease.worker_id)).toEqual(["pool-live"]);
  });

  it("resumes a run on another instance when the instance executing it dies mid-step", async () => {
    const automation = await saveAutomation([{ webhook: { url: `${receiver.origin}/first` } }, { webhook: { url: `${receiver.origin}/second` } }]);
    const a = createEngine("core-a", proxy.url);
    const b = createEngine("core-b", db.url);
    // A is the active sweeper and the only worker when the run starts.
    a.sweeper.start();
    await waitFor(() => a.sweeps.length > 0, changed.subscribe, 5_000, "A to sweep");
    b.sweeper.start();
    await a.worker.start();
    receiver.answer("hang");
    await loseHeartbeat();
    await waitFor(() => receiver.requests.length === 1, changed.subscribe, 10_000, "A's first request");
    const [run] = await listRuns(router.pool, automation.id);
    expect(run!.status).toBe("running");
    await b.worker.start();
    const workerA = a.worker.workerId()!;
    expect((await leases()).map((lease) => lease.worker_id)).toContain(workerA);

    // A dies: every connection gone, no stop handler run, its request still unanswered.
    receiver.answer({ status: 200, body: "ok" });
    proxy.cut();

    await waitFor(() => b.events.some((event) => event.type === "run"), changed.subscribe, 15_000, "B to end the run");
    expect(b.sweeps.some((unlocked) => unlocked.includes(workerA))).toBe(true);
    expect(b.sweeper.isLeader()).toBe(true);
    expect((await listRuns(router.pool, automation.id))[0]!.status).toBe("succeeded");
    // The step in flight when A died is executed again by B, with the same Idempotency-Key;
    // the next step's request arrives once.
    expect(receiver.requests.map((request) => [request.path, header(request.headers["idempotency-key"])])).toEqual([
      ["/first", `${run!.id}:actions.0`],
      ["/first", `${run!.id}:actions.0`],
      ["/second", `${run!.id}:actions.1`],
    ]);
    expect((await listSteps(router.pool, run!.id)).map((step) => [step.path, step.status, step.attempts])).toEqual([
      ["actions.0", "succeeded", 2],
      ["actions.1", "succeeded", 1],
    ]);
    expect((await leases()).map((lease) => lease.instance_id)).toEqual(["core-b"]);
  });

  it("completes a run on another instance when the instance executing it is killed during a 5 s delay, each request arriving once", async () => {
    const automation = await saveAutomation([
      { webhook: { url: `${receiver.origin}/before` } },
      { delay: { duration: "5s" } },
      { webhook: { url: `${receiver.origin}/after` } },
    ]);
    const a = createEngine("core-a", proxy.url);
    await a.worker.start();
    await loseHeartbeat();
    await waitFor(() => a.events.some((event) => event.type === "step" && event.status === "waiting"), changed.subscribe, 10_000, "A to start the delay");
    const [run] = await listRuns(router.pool, automation.id);

    // A dies mid-delay: every connection gone, no stop handler run.
    proxy.cut();
    const b = createEngine("core-b", db.url);
    b.sweeper.start();
    await b.worker.start();

    await waitFor(() => b.events.some((event) => event.type === "run"), changed.subscribe, 20_000, "B to end the run");
    expect((await listRuns(router.pool, automation.id))[0]!.status).toBe("succeeded");
    // Raw requests, not deduplicated: each step's request arrived exactly once.
    expect(receiver.requests.map((request) => [request.path, header(request.headers["idempotency-key"])])).toEqual([
      ["/before", `${run!.id}:actions.0`],
      ["/after", `${run!.id}:actions.2`],
    ]);
    expect((await listSteps(router.pool, run!.id)).map((step) => [step.path, step.status])).toEqual([
      ["actions.0", "succeeded"],
      ["actions.1", "succeeded"],
      ["actions.2", "succeeded"],
    ]);
    expect(a.events.some((event) => event.type === "run")).toBe(false);
  });
});
