// A webhook step whose start is a marker alone goes out while that start is in flight (the
// claim's answer is the last round trip before it), and everything the start gives still holds:
// the running step and its attempts recorded, a run cancelled meanwhile stops there, and a
// start lost with its connection means the step is sent again with the same key.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AutomationStore } from "../../../src/automations/definitions/automation-store.ts";
import { createRunExecutor, type RunEvent } from "../../../src/automations/execution/run-executor.ts";
import { cancelRun } from "../../../src/automations/runs/run-admission.ts";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import type { EntityRegistry } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import type { NotificationService } from "../../../src/notifications/index.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { LOST_PAYLOAD, satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { header } from "../../support/automations/run-engine.ts";
import { createTestDatabase } from "../../support/database.ts";
import { killConnections, waitFor } from "../../support/instance.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";

const LOST = "satellite.heartbeat_lost";
const EXECUTOR = "step-start-executor";
const { compiler } = satelliteCompiler();
const box = createSecretBox(randomBytes(32));

let databaseUrl: string;
let pool: pg.Pool;
let store: AutomationStore;
beforeAll(async () => {
  databaseUrl = (await createTestDatabase()).url;
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  store = new AutomationStore(pool, box);
});
afterAll(async () => {
  await pool?.end();
});

let receiver: HttpReceiver;
let executorPool: pg.Pool;
beforeEach(async () => {
  receiver = await startHttpReceiver();
  executorPool = new pg.Pool({ connectionString: databaseUrl, max: 8, application_name: EXECUTOR });
  // A test kills its connections, as the core's pool does (createPool) it hears their errors.
  executorPool.on("error", () => undefined);
  executorPool.on("connect", (client) => client.on("error", () => undefined));
});
afterEach(async () => {
  await receiver.close();
  await executorPool.end();
});

/** A pending run of a new automation doing `actions`, on a lost heartbeat of LOST_PAYLOAD's satellite. */
async function pendingRun(actions: unknown[]): Promise<string> {
  const compiled = compiler.compile({ name: `step-start-${randomUUID().slice(0, 8)}`, triggers: [{ event: LOST }], actions });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const automation = await store.create(compiled.compiled);
  const trigger = { event: LOST, triggerId: "t", payload: LOST_PAYLOAD, forMs: null, change: null };
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger)
     VALUES ($1, $2, 't', $3, $4, $5) RETURNING id`,
    [automation.id, automation.version, LOST, randomUUID(), JSON.stringify(trigger)],
  );
  return rows[0]!.id;
}

/**
 * An executor on its own pool. `onEntityRead` runs when a step's template reads the satellite's
 * state: between the run's claim and that step's start.
 */
function executor(events: RunEvent[] = [], onEntityRead: () => Promise<void> = async () => undefined) {
  const entities = {
    entity: () => ({
      get: async () => {
        await onEntityRead();
        return { status: "offline" };
      },
    }),
  } as unknown as Pick<EntityRegistry, "entity">;
  return createRunExecutor({
    pool: executorPool,
    compiler,
    entities,
    notifications: {} as Pick<NotificationService, "send" | "channels">,
    box,
    logger: silentLogger(),
    retryDelayMs: () => 0,
    onEvent: (event) => events.push(event),
  });
}

/**
 * Holds the step's start: an uncommitted record of the same step makes the start's insert wait
 * for this transaction (the unique key), while everything else of the run goes on.
 */
async function holdStart(runId: string, path: string) {
  const holder = await pool.connect();
  await holder.query("BEGIN");
  await holder.query("INSERT INTO automation_run_steps (run_id, step_path, kind, status) VALUES ($1, $2, 'webhook', 'running')", [runId, path]);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await holder.query("ROLLBACK");
      holder.release();
    },
  };
}

/** Until a start waits for the transaction of holdStart. */
async function untilStartWaits(): Promise<void> {
  for (;;) {
    const { rows } = await pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted");
    if (rows.length > 0) return;
  }
}

const runStatus = async (runId: string) => (await pool.query<{ status: string }>("SELECT status FROM automation_runs WHERE id = $1", [runId])).rows[0]!.status;
const paths = () => receiver.requests.map((request) => request.path);

describe("a webhook step's start", () => {
  it("is still in flight when the webhook arrives, and records the step running, then its outcome after two counted attempts", async () => {
    receiver.answerNext({ status: 503 });
    const runId = await pendingRun([{ webhook: { url: `${receiver.origin}/hook`, retries: 1 } }]);
    const events: RunEvent[] = [];
    const held = await holdStart(runId, "actions.0");
    let executing: Promise<void> | undefined;
    try {
      executing = executor(events).execute(runId);
      await waitFor(() => receiver.requests.length === 1, receiver.subscribe, 5_000, "the webhook while its start is held");
      // The start is unanswered: nothing of the step is stored yet.
      expect(events).toEqual([]);
    } finally {
      await held.release();
    }
    await executing;

    // The retry's attempt was counted behind the start, on the same connection.
    expect(paths()).toEqual(["/hook", "/hook"]);
    expect(events.map((event) => (event.type === "step" ? `${event.path} ${event.status}` : `run ${event.status}`))).toEqual([
      "actions.0 running",
      "actions.0 succeeded",
      "run succeeded",
    ]);
    expect(await listSteps(pool, runId)).toMatchObject([{ path: "actions.0", status: "succeeded", attempts: 2, input: { url: `${receiver.origin}/hook` } }]);
  });

  it("is answered before a step whose start carries the previous step's outcome goes out", async () => {
    const runId = await pendingRun([{ log: { message: "lost" } }, { webhook: { url: `${receiver.origin}/hook` } }]);
    const events: RunEvent[] = [];
    const seenAtArrival: string[][] = [];
    const unsubscribe = receiver.subscribe(() =>
      seenAtArrival.push(events.map((event) => (event.type === "step" ? `${event.path} ${event.status}` : event.type))),
    );
    const held = await holdStart(runId, "actions.1");
    let executing: Promise<void> | undefined;
    try {
      executing = executor(events).execute(runId);
      await untilStartWaits();
    } finally {
      await held.release();
      await executing;
      unsubscribe();
    }
    // When the webhook arrived, its start (which stored the log's outcome with it) had been answered.
    expect(seenAtArrival).toEqual([["actions.0 running", "actions.0 succeeded", "actions.1 running"]]);
    expect(await runStatus(runId)).toBe("succeeded");
  });

  it("finds a run cancelled after its claim: the webhook that went out is recorded, and nothing after it is sent", async () => {
    const runId = await pendingRun([
      { webhook: { url: `${receiver.origin}/{{ entity('satellite-connection', trigger.payload.satelliteId).status }}` } },
      { webhook: { url: `${receiver.origin}/after` } },
    ]);
    const events: RunEvent[] = [];
    // Claimed (running), then cancelled before its first step's start.
    await executor(events, () => withTransaction(pool, (tx) => cancelRun(tx, runId, "test")).then(() => undefined)).execute(runId);

    expect(paths()).toEqual(["/offline"]);
    expect(await runStatus(runId)).toBe("cancelled");
    expect(await listSteps(pool, runId)).toMatchObject([
      { path: "actions.0", kind: "webhook", status: "succeeded", attempts: 1, input: { url: `${receiver.origin}/offline` }, output: { status: 200 } },
    ]);
    expect(events).toEqual([{ runId, type: "step", path: "actions.0", status: "succeeded" }]);
  });

  it("finds a run cancelled before a start that carries the previous step's outcome: the webhook is not sent", async () => {
    const runId = await pendingRun([
      { log: { message: "lost" } },
      { webhook: { url: `${receiver.origin}/{{ entity('satellite-connection', trigger.payload.satelliteId).status }}` } },
    ]);
    // Cancelled after the log step, before the webhook's start.
    await executor([], () => withTransaction(pool, (tx) => cancelRun(tx, runId, "test")).then(() => undefined)).execute(runId);

    expect(paths()).toEqual([]);
    expect(await runStatus(runId)).toBe("cancelled");
    expect((await listSteps(pool, runId)).map((step) => [step.path, step.status])).toEqual([["actions.0", "succeeded"]]);
  });

  it("lost with its connection after the webhook left: the execution fails, and the next sends it again with the same key", async () => {
    const runId = await pendingRun([{ webhook: { url: `${receiver.origin}/hook` } }]);
    const held = await holdStart(runId, "actions.0");
    let failed: Promise<unknown> | undefined;
    try {
      failed = executor()
        .execute(runId)
        .then(
          () => "returned",
          (error: Error) => error,
        );
      await waitFor(() => receiver.requests.length === 1, receiver.subscribe, 5_000, "the webhook while its start is held");
      // As if the core's process died now: its connections are gone, the start with them.
      await killConnections(databaseUrl, EXECUTOR);
      expect(await failed).toBeInstanceOf(Error);
    } finally {
      await held.release();
    }

    await executor().execute(runId);
    expect(await runStatus(runId)).toBe("succeeded");
    expect(receiver.requests.map((request) => header(request.headers["idempotency-key"]))).toEqual([`${runId}:actions.0`, `${runId}:actions.0`]);
    // The lost start's attempt is not counted (as when the database loses a start).
    expect(await listSteps(pool, runId)).toMatchObject([{ path: "actions.0", status: "succeeded", attempts: 1 }]);
  });
});
