// A run the router handed over, whose definition the executor has compiled already (the common
// case under load), is opened by its first step's start: the opening and the start go in one
// round trip, and the step executes once that is answered. If the opening finds the run not as
// handed, the start stored nothing and the run takes the claim's path: executed once, or not at all.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createRunSessions, type OpenedRun } from "../../../src/automations/execution/run-session.ts";
import type { HandedRun } from "../../../src/automations/runs/automation-runs.ts";
import { StatementBatch } from "../../../src/entities/statement-batch.ts";
import { hashedLockKey, LockKey } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { textOf } from "../../support/query-text.ts";
import { LOG_RUN_UPDATES, runUpdates } from "../../support/automations/run-updates.ts";

let pool: pg.Pool;
let automationId: string;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await createTestDatabase()).url, max: 6 });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('handed', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  automationId = rows[0]!.id;
  await pool.query(LOG_RUN_UPDATES);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  await pool?.end();
});

/** A run as the router's transaction records a handed one: running from its creation, its row version returned. */
async function handedRun(): Promise<HandedRun> {
  const { rows } = await pool.query<{ id: string; xmin: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger, status, started_at)
     VALUES ($1, 1, 't', 'satellite.heartbeat_lost', $2, '{}', 'running', clock_timestamp()) RETURNING id, xmin::text`,
    [automationId, randomUUID()],
  );
  return {
    runId: rows[0]!.id,
    jobId: "0",
    xmin: rows[0]!.xmin,
    automationId,
    automationName: "handed",
    automationVersion: 1,
    trigger: { event: "satellite.heartbeat_lost", triggerId: "t", payload: {}, forMs: null, change: null },
  };
}

/**
 * Round trips per connection as pg saw them: a statement sent after an answer to an earlier one
 * arrived starts the next round trip (a round trip's statements are all sent before any answer).
 * `opening()`: the round trips so far of the connection that tried a run's lock outside a claim.
 */
function watchRoundTrips(): { opening(): number } {
  const clients = new Map<unknown, { trips: number; answered: boolean; opening: boolean }>();
  const query = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    let client = clients.get(this);
    if (!client) clients.set(this, (client = { trips: 0, answered: true, opening: false }));
    if (client.answered) {
      client.trips++;
      client.answered = false;
    }
    if (!(args[0] instanceof StatementBatch) && textOf(args[0]).includes("pg_try_advisory_lock")) client.opening = true;
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    const answered = () => (client.answered = true);
    if (result instanceof Promise) result.then(answered, answered);
    return result as never;
  });
  return { opening: () => [...clients.values()].find((client) => client.opening)?.trips ?? 0 };
}

interface Executed {
  /** How many times the step's action ran. */
  actions: number;
  /** The connection's round trips when the action first ran. */
  tripsAtAction?: number;
  /** The connection's round trips once the run ended and gave its lock up. */
  trips?: number;
}

/** Executes the handed run as the executor does a one-step run, its definition known: start the step (not overlapped), act, end. */
async function executeHanded(handed: HandedRun, trips?: { opening(): number }): Promise<Executed> {
  const sessions = createRunSessions(pool, { connections: 1 });
  const executed: Executed = { actions: 0 };
  await sessions.withHandedRun(
    handed,
    () => false,
    async ({ session }: OpenedRun) => {
      if (!(await session.start("actions.0", "log", { message: "hi" }, null, true))) return;
      executed.actions++;
      executed.tripsAtAction ??= trips?.opening();
      session.finish("actions.0", { status: "succeeded" });
      await session.end({ status: "succeeded" });
      await session.unlock();
      if (trips) executed.trips = trips.opening();
    },
  );
  return executed;
}

/** As executeHanded, with two first steps at once (a parallel action's branches). */
async function executeHandedParallel(handed: HandedRun): Promise<number> {
  const sessions = createRunSessions(pool, { connections: 1 });
  let actions = 0;
  await sessions.withHandedRun(
    handed,
    () => false,
    async ({ session }: OpenedRun) => {
      await Promise.all(
        ["actions.0.branches.0", "actions.0.branches.1"].map(async (path) => {
          if (!(await session.start(path, "log", { message: path }, null, true))) return;
          actions++;
          session.finish(path, { status: "succeeded" });
        }),
      );
      await session.end({ status: "succeeded" });
      await session.unlock();
    },
  );
  return actions;
}

type StepRow = { step_path: string; status: string; attempts: number };
const stepsOf = async (runId: string) =>
  (await pool.query<StepRow>("SELECT step_path, status, attempts FROM automation_run_steps WHERE run_id = $1 ORDER BY step_path", [runId])).rows;
const statusOf = async (runId: string) => (await pool.query<{ status: string }>("SELECT status FROM automation_runs WHERE id = $1", [runId])).rows[0]!.status;
/** Whether some session holds the run's lock (tried from another one, and given back). */
async function lockHeld(runId: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ taken: boolean }>(`SELECT pg_try_advisory_lock(${hashedLockKey("$1")}) AS taken`, [LockKey.run(runId)]);
    if (rows[0]!.taken) await client.query(`SELECT pg_advisory_unlock(${hashedLockKey("$1")})`, [LockKey.run(runId)]);
    return !rows[0]!.taken;
  } finally {
    client.release();
  }
}

describe("a handed run whose definition is known", () => {
  it("is opened by its first step's start: the step acts after one round trip on its connection, the run takes two", async () => {
    const handed = await handedRun();
    const trips = watchRoundTrips();
    const executed = await executeHanded(handed, trips);
    vi.restoreAllMocks();
    // The opening with the start; the outcome with the end (and the unlock).
    expect(executed).toEqual({ actions: 1, tripsAtAction: 1, trips: 2 });
    expect(await stepsOf(handed.runId)).toEqual([{ step_path: "actions.0", status: "succeeded", attempts: 1 }]);
    expect(await statusOf(handed.runId)).toBe("succeeded");
    // No claim: the end is the only UPDATE.
    expect(await runUpdates(pool, handed.runId)).toEqual(["running → succeeded"]);
    expect(await lockHeld(handed.runId)).toBe(false);
  });

  it("cancelled between the hand-over and the opening: nothing acts, and no step is recorded", async () => {
    const handed = await handedRun();
    await pool.query("UPDATE automation_runs SET status = 'cancelled', finished_at = clock_timestamp() WHERE id = $1", [handed.runId]);
    const executed = await executeHanded(handed);
    expect(executed.actions).toBe(0);
    expect(await stepsOf(handed.runId)).toEqual([]);
    expect(await statusOf(handed.runId)).toBe("cancelled");
    expect(await lockHeld(handed.runId)).toBe(false);
  });

  it("claimed by another execution since (a newer row version): its lock free, it is claimed and acts once", async () => {
    const handed = await handedRun();
    // What a second execution's claim leaves (running → running): the row the router inserted is gone.
    await pool.query("UPDATE automation_runs SET status = 'running' WHERE id = $1", [handed.runId]);
    const executed = await executeHanded(handed);
    expect(executed.actions).toBe(1);
    // Not executed as handed: claimed (the second running → running), then ended.
    expect(await runUpdates(pool, handed.runId)).toEqual(["running → running", "running → running", "running → succeeded"]);
    // One start stored: none by the opening (attempts would be 2).
    expect(await stepsOf(handed.runId)).toEqual([{ step_path: "actions.0", status: "succeeded", attempts: 1 }]);
    expect(await statusOf(handed.runId)).toBe("succeeded");
    expect(await lockHeld(handed.runId)).toBe(false);
  });

  it("its lock held elsewhere: nothing stored by the opening; once the lock is given up it is claimed and acts once", async () => {
    const handed = await handedRun();
    const holder = await pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${hashedLockKey("$1")})`, [LockKey.run(handed.runId)]);
      const executing = executeHanded(handed);
      await untilWaitingForLock();
      expect(await stepsOf(handed.runId)).toEqual([]);
      await holder.query(`SELECT pg_advisory_unlock(${hashedLockKey("$1")})`, [LockKey.run(handed.runId)]);
      const executed = await executing;
      expect(executed.actions).toBe(1);
    } finally {
      holder.release();
    }
    expect(await stepsOf(handed.runId)).toEqual([{ step_path: "actions.0", status: "succeeded", attempts: 1 }]);
    expect(await statusOf(handed.runId)).toBe("succeeded");
    // Claimed once its lock was free, then ended.
    expect(await runUpdates(pool, handed.runId)).toEqual(["running → running", "running → succeeded"]);
  });
});

describe("a handed run whose first steps start at once", () => {
  it("sends the second start once the opening (with the first) is answered; both act once", async () => {
    const handed = await handedRun();
    expect(await executeHandedParallel(handed)).toBe(2);
    expect(await stepsOf(handed.runId)).toEqual([
      { step_path: "actions.0.branches.0", status: "succeeded", attempts: 1 },
      { step_path: "actions.0.branches.1", status: "succeeded", attempts: 1 },
    ]);
    expect(await runUpdates(pool, handed.runId)).toEqual(["running → succeeded"]);
  });

  it("cancelled before the opening: neither acts, and neither start is stored", async () => {
    const handed = await handedRun();
    await pool.query("UPDATE automation_runs SET status = 'cancelled', finished_at = clock_timestamp() WHERE id = $1", [handed.runId]);
    expect(await executeHandedParallel(handed)).toBe(0);
    expect(await stepsOf(handed.runId)).toEqual([]);
    expect(await lockHeld(handed.runId)).toBe(false);
  });
});

async function untilWaitingForLock(): Promise<void> {
  for (;;) {
    const { rows } = await pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    if (rows.length > 0) return;
  }
}
