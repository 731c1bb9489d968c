// Runs this core's router records go to this core's worker directly once the batch commits, their
// jobs locked for it in the router's transaction: no NOTIFY and no fetch. A core that dies after
// COMMIT leaves them to the lease sweeper and another worker; a worker that stops leaves them due.
import { randomBytes } from "node:crypto";
import { run } from "graphile-worker";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AutomationWorker, createAutomationWorker } from "../../../src/automations/execution/automation-worker.ts";
import { createRunSlots, type RunHandoff } from "../../../src/automations/execution/run-handoff.ts";
import { createLeaseSweeper, type LeaseSweeper, renewLease } from "../../../src/automations/execution/worker-leases.ts";
import { createRunExecutor, type RunEvent, type RunExecutor } from "../../../src/automations/execution/run-executor.ts";
import { cancelRun } from "../../../src/automations/runs/run-admission.ts";
import { type HandedRun, listRuns } from "../../../src/automations/runs/automation-runs.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createNotificationSenders, NotificationService } from "../../../src/notifications/index.ts";
import { createPool, hashedLockKey, LockKey, withTransaction } from "../../../src/storage/index.ts";
import { startHttpReceiver, type HttpReceiver } from "../../support/network/receivers.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createSignal, type TestInstance, waitFor } from "../../support/instance.ts";
import { type AutomationRouting, startAutomationRouting } from "../../support/automations/automation-routing.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { LOG_RUN_UPDATES, runUpdates } from "../../support/automations/run-updates.ts";

const options = satelliteCompiler();
// No poll within a test: a job the worker has to fetch is fetched only when graphile-worker's
// LISTEN connection hears add_jobs' NOTIFY.
const NO_POLL_MS = 3_600_000;

/** One core's worker: its own pool, executor, graphile-worker runner (whose fetched jobs it counts). */
interface Engine {
  pool: pg.Pool;
  worker: AutomationWorker;
  events: RunEvent[];
  /** Jobs graphile-worker fetched and started. */
  fetched: number;
  /** Executions of handed runs returned (whatever they found). */
  handedReturned: number;
  stop(): Promise<void>;
}

let db: TestDatabase;
let routing: AutomationRouting;
let router: TestInstance;
let receiver: HttpReceiver;
let engines: Engine[];
let sweepers: LeaseSweeper[];
// The router's core hands its runs over to this (a core's own worker), when set.
let local: RunHandoff | undefined;
const changed = createSignal();

beforeEach(async () => {
  engines = [];
  sweepers = [];
  local = undefined;
  db = await createTestDatabase();
  routing = await startAutomationRouting(db.url, "handoff-router", {
    onReload: () => changed.emit(),
    handoff: { reserve: (wanted) => local?.reserve(wanted) },
  });
  ({ core: router } = routing);
  // graphile-worker registers its task names at a worker's first fetch, which runs just after
  // start() resolves; until then the router hands no run over (INSERT_RUNS hands only runs whose
  // job's task exists) and every run is fetched — a race each test here would lose now and then
  // on a loaded machine. A core's database has them from its first run on.
  await router.pool.query("INSERT INTO graphile_worker._private_tasks (identifier) VALUES ('automation.run') ON CONFLICT DO NOTHING");
  receiver = await startHttpReceiver();
  receiver.subscribe(changed.emit);
});

afterEach(async () => {
  receiver?.answer({ status: 200, body: "ok" });
  await receiver?.close();
  for (const sweeper of sweepers) await sweeper.stop();
  for (const engine of engines.reverse()) await engine.stop();
  await routing?.stop();
});

function createEngine(name: string, setup: { pollIntervalMs?: number; concurrency?: number } = {}): Engine {
  const pool = createPool(db.url, silentLogger(), { applicationName: name, max: 6 });
  const notifications = new NotificationService({ pool, box: createSecretBox(randomBytes(32)), senders: createNotificationSenders({ timeoutMs: 2_000 }) });
  const engine = { pool, events: [], fetched: 0, handedReturned: 0 } as unknown as Engine;
  const runExecutor = createRunExecutor({
    pool,
    box: routing.box,
    ...options,
    entities: router.entities,
    notifications,
    logger: silentLogger(),
    retryDelayMs: () => 0,
    onEvent: (event) => {
      engine.events.push(event);
      changed.emit();
    },
  });
  const executor: RunExecutor = {
    execute: (...args) => runExecutor.execute(...args),
    executeHanded: (...args) =>
      runExecutor.executeHanded(...args).finally(() => {
        engine.handedReturned++;
        changed.emit();
      }),
  };
  engine.worker = createAutomationWorker({
    connectionString: db.url,
    pool,
    instanceId: name,
    executor,
    logger: silentLogger(),
    concurrency: setup.concurrency ?? 4,
    pollIntervalMs: setup.pollIntervalMs ?? NO_POLL_MS,
    leaseTtlMs: 1_000,
    leaseRenewIntervalMs: 100,
    runQueue: (runOptions) => {
      runOptions.events!.on("job:start", () => {
        engine.fetched++;
        changed.emit();
      });
      return run(runOptions);
    },
  });
  engine.stop = async () => {
    await engine.worker.stop();
    await pool.end();
  };
  engines.push(engine);
  return engine;
}

function startSweeper(): { sweeps: Array<readonly string[]> } {
  const sweeps: Array<readonly string[]> = [];
  const sweeper = createLeaseSweeper({
    pool: router.pool,
    logger: silentLogger(),
    intervalMs: 100,
    orphanGraceMs: 1_000,
    onSweep: (unlocked) => {
      sweeps.push(unlocked);
      changed.emit();
    },
  });
  sweeper.start();
  sweepers.push(sweeper);
  return { sweeps };
}

interface JobRow {
  key: string | null;
  locked_by: string | null;
  attempts: number;
  due: boolean;
}

async function jobs(): Promise<JobRow[]> {
  const { rows } = await router.pool.query<JobRow>(
    "SELECT key, locked_by, attempts, run_at <= now() AS due FROM graphile_worker.jobs WHERE task_identifier = 'automation.run' ORDER BY id",
  );
  return rows;
}

/** The run's statuses as its automation-run-status history recorded them, oldest first. */
async function recordedStatuses(runId: string): Promise<string[]> {
  const { rows } = await router.pool.query<{ status: string }>(
    "SELECT next->>'status' AS status FROM entity_changes WHERE kind = 'automation-run-status' AND entity_id = $1 ORDER BY seq",
    [runId],
  );
  return rows.map((row) => row.status);
}

/** This core's worker's reservations, with `beforeStart` run between the router's COMMIT and the handed runs' execution. */
function handingOverAfter(engine: Engine, beforeStart: (runs: readonly HandedRun[]) => Promise<void>): RunHandoff {
  return {
    reserve: (wanted) => {
      const reservation = engine.worker.reserve(wanted);
      if (!reservation) return undefined;
      return {
        ...reservation,
        start: (runs) => void beforeStart(runs).then(() => reservation.start(runs)),
      };
    },
  };
}

describe("runs handed from this core's router to its worker", () => {
  it("records a handed run running from its creation and executes it without a claim", async () => {
    await router.pool.query(LOG_RUN_UPDATES);
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/claimed` } }]);
    const engine = createEngine("core");
    await engine.worker.start();
    let statusWhenHanded: string | undefined;
    local = handingOverAfter(engine, async (runs) => {
      const { rows } = await router.pool.query<{ status: string; started: boolean }>(
        "SELECT status, started_at IS NOT NULL AS started FROM automation_runs WHERE id = $1",
        [runs[0]!.runId],
      );
      statusWhenHanded = `${rows[0]!.status}${rows[0]!.started ? ", started" : ""}`;
    });

    await routing.loseHeartbeat();
    await waitFor(() => engine.events.some((event) => event.type === "run"), changed.subscribe, 10_000, "the run to end");
    const [run] = await listRuns(router.pool, automation.id);
    expect(statusWhenHanded).toBe("running, started");
    expect(run).toMatchObject({ status: "succeeded", startedAt: expect.any(String) });
    expect(Date.parse(run!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(run!.createdAt));
    // Created running, ended: no pending → running change in its history, and the end is the only UPDATE.
    expect(await recordedStatuses(run!.id)).toEqual(["running", "succeeded"]);
    expect(await runUpdates(router.pool, run!.id)).toEqual(["running → succeeded"]);
    expect(receiver.requests.map((request) => request.path)).toEqual(["/claimed"]);
    expect(engine.fetched).toBe(0);
  });

  it("lets a cancel that commits between the router's COMMIT and the execution win", async () => {
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/cancelled` } }]);
    const engine = createEngine("core");
    await engine.worker.start();
    local = handingOverAfter(engine, async (runs) => {
      for (const { runId } of runs) await withTransaction(router.pool, (tx) => cancelRun(tx, runId, "cancelled by the test"));
    });

    await routing.loseHeartbeat();
    await waitFor(() => engine.handedReturned === 1, changed.subscribe, 10_000, "the handed run's execution to return");
    const [run] = await listRuns(router.pool, automation.id);
    expect(run).toMatchObject({ status: "cancelled", error: "cancelled by the test" });
    expect(receiver.requests).toEqual([]);
    expect(engine.events).toEqual([]);
    expect(await recordedStatuses(run!.id)).toEqual(["running", "cancelled"]);
  });

  it("claims a handed run whose lock is held elsewhere once it is given up, and executes it once", async () => {
    await router.pool.query(LOG_RUN_UPDATES);
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/waited` } }]);
    const engine = createEngine("core");
    await engine.worker.start();
    // Another session holds the run's lock (as an execution elsewhere would) when the execution starts.
    const holder = await router.pool.connect();
    local = handingOverAfter(engine, async (runs) => {
      await holder.query(`SELECT pg_advisory_lock(${hashedLockKey("$1")})`, [LockKey.run(runs[0]!.runId)]);
    });
    try {
      await routing.loseHeartbeat();
      // The execution waits for the lock on a connection of its own.
      const waiting = async () => {
        const { rows } = await router.pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        return rows.length > 0;
      };
      while (!(await waiting())) await new Promise((resolve) => setImmediate(resolve));
      expect(receiver.requests).toEqual([]);
    } finally {
      await holder.query("SELECT pg_advisory_unlock_all()");
      holder.release();
    }
    await waitFor(() => engine.events.some((event) => event.type === "run"), changed.subscribe, 10_000, "the run to end");
    const [run] = await listRuns(router.pool, automation.id);
    expect(run!.status).toBe("succeeded");
    expect(receiver.requests.map((request) => request.path)).toEqual(["/waited"]);
    // Claimed under the lock (it was running already), then ended.
    expect(await runUpdates(router.pool, run!.id)).toEqual(["running → running", "running → succeeded"]);
  });

  it("executes a routed change's run without fetching its job, and deletes the job", async () => {
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/handed` } }]);
    const engine = createEngine("core");
    await engine.worker.start();
    local = engine.worker;

    await routing.loseHeartbeat();
    await waitFor(() => engine.events.some((event) => event.type === "run"), changed.subscribe, 10_000, "the run to end");
    expect(receiver.requests.map((request) => request.path)).toEqual(["/handed"]);
    expect((await listRuns(router.pool, automation.id))[0]!.status).toBe("succeeded");
    // graphile-worker fetched nothing: with no poll, a queued job would have come by NOTIFY.
    expect(engine.fetched).toBe(0);
    // The run's end deleted its job in its own transaction.
    expect(await jobs()).toEqual([]);
  });

  it("leaves the runs beyond the worker's free slots to the job queue", async () => {
    await routing.saveAutomation([{ log: { message: "one" } }]);
    await routing.saveAutomation([{ log: { message: "two" } }]);
    await routing.saveAutomation([{ log: { message: "three" } }]);
    const engine = createEngine("core", { concurrency: 1 });
    await engine.worker.start();
    local = engine.worker;

    await routing.loseHeartbeat();
    await waitFor(() => engine.events.filter((event) => event.type === "run").length === 3, changed.subscribe, 10_000, "three runs to end");
    // One slot: one run handed over, the other two fetched (after add_jobs' NOTIFY).
    expect(engine.fetched).toBe(2);
    expect(await jobs()).toEqual([]);
  });

  it("leaves the run of a core that dies after COMMIT to another worker once its lease is swept, executed once", async () => {
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/once` } }]);
    // Another core's worker polls often all along, but the job stays locked until the dead pool's lease is swept.
    const other = createEngine("other", { pollIntervalMs: 50 });
    await other.worker.start();
    // A core whose worker holds a lease, takes the batch's run, and dies right after the COMMIT.
    const dead = "pool-dead";
    await renewLease(router.pool, { workerId: dead, instanceId: "dead-core", ttlMs: 1_000 });
    const committed = createSignal();
    let handedOver = 0;
    local = {
      reserve: (wanted) => ({
        workerId: dead,
        slots: wanted,
        start: (runs) => {
          handedOver += runs.length;
          committed.emit();
        },
        cancel: () => undefined,
        abandon: () => undefined,
      }),
    };
    await routing.loseHeartbeat();
    await waitFor(() => handedOver === 1, committed.subscribe, 10_000, "the run handed over");
    const [run] = await listRuns(router.pool, automation.id);
    // Recorded as claimed by the dead core: running, its job locked by it.
    expect(run!.status).toBe("running");
    expect(await jobs()).toEqual([{ key: run!.id, locked_by: dead, attempts: 1, due: true }]);

    expect(other.fetched).toBe(0);
    const { sweeps } = startSweeper();
    await waitFor(() => other.events.some((event) => event.type === "run"), changed.subscribe, 15_000, "the other core to end the run");
    expect(sweeps.some((unlocked) => unlocked.includes(dead))).toBe(true);
    expect(other.fetched).toBe(1);
    expect(receiver.requests.map((request) => request.path)).toEqual(["/once"]);
    expect((await listRuns(router.pool, automation.id))[0]!.status).toBe("succeeded");
  });

  it("leaves the job of a handed-over run in flight due when the worker stops, for another worker to finish", async () => {
    const automation = await routing.saveAutomation([{ webhook: { url: `${receiver.origin}/slow` } }]);
    const engine = createEngine("core");
    await engine.worker.start();
    local = engine.worker;
    receiver.answer("hang");

    await routing.loseHeartbeat();
    await waitFor(() => receiver.requests.length === 1, changed.subscribe, 10_000, "the run's request");
    expect(engine.fetched).toBe(0);
    await engine.worker.stop();
    const [run] = await listRuns(router.pool, automation.id);
    expect(run!.status).not.toBe("succeeded");
    // Due at once, locked by nobody: the stopped worker's own job is gone.
    expect(await jobs()).toEqual([{ key: run!.id, locked_by: null, attempts: 0, due: true }]);

    receiver.answer({ status: 200, body: "ok" });
    const other = createEngine("other", { pollIntervalMs: 50 });
    await other.worker.start();
    await waitFor(() => other.events.some((event) => event.type === "run"), changed.subscribe, 10_000, "the other core to end the run");
    expect((await listRuns(router.pool, automation.id))[0]!.status).toBe("succeeded");
    expect(await jobs()).toEqual([]);
  });

  it("unlocks the jobs of a batch whose COMMIT went unanswered, and hands nothing over", async () => {
    await routing.saveAutomation([{ log: { message: "unknown" } }]);
    const engine = createEngine("core", { pollIntervalMs: 50 });
    await engine.worker.start();
    const workerId = engine.worker.workerId()!;
    const abandoned = createSignal();
    let outcome: string | undefined;
    // The router's COMMIT answered as lost: the reservation is abandoned, as the sink does for `unknown`.
    local = {
      reserve: (wanted) => {
        const reservation = engine.worker.reserve(wanted)!;
        return {
          ...reservation,
          start: (runs) => {
            outcome = "abandoned";
            reservation.abandon(runs.map((handed) => handed.runId));
            abandoned.emit();
          },
        };
      },
    };
    await routing.loseHeartbeat();
    await waitFor(() => outcome !== undefined, abandoned.subscribe, 10_000, "the batch to commit");
    expect(workerId).toMatch(/^pool-/);
    // Unlocked (no longer this pool's), so the worker fetches it like any queued job.
    await waitFor(() => engine.events.some((event) => event.type === "run"), changed.subscribe, 10_000, "the run to end");
    expect(engine.fetched).toBe(1);
  });
});

describe("the worker's run slots", () => {
  it("gives freed slots to fetched jobs waiting before handing any over", async () => {
    const slots = createRunSlots(2);
    expect(slots.tryTake(3)).toBe(2);
    let fetchedStarted = false;
    const waiting = slots.take().then(() => (fetchedStarted = true));
    expect(slots.tryTake(1)).toBe(0);
    slots.release();
    await waiting;
    expect(fetchedStarted).toBe(true);
    expect(slots.tryTake(1)).toBe(0);
    slots.release(2);
    expect(slots.tryTake(5)).toBe(2);
  });
});
