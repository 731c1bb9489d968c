// The connections runs execute on: many runs share one, each holding its own lock; a run whose
// lock is held elsewhere waits for it on a connection of its own; a step's outcome held back
// goes in the transaction of the next write; and every connection goes back to the pool.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunSessions, type OpenedRun } from "../../../src/automations/execution/run-session.ts";
import { finishStepStatement, startStepStatement } from "../../../src/automations/runs/run-records.ts";
import { ENTITY_CHANGES_CHANNEL } from "../../../src/entities/index.ts";
import { hashedLockKey, LockKey } from "../../../src/storage/index.ts";
import { createSignal } from "../../support/instance.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;
let databaseUrl: string;
let automationId: string;
beforeAll(async () => {
  databaseUrl = (await createTestDatabase()).url;
  pool = new pg.Pool({ connectionString: databaseUrl, max: 6 });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('sessions', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  automationId = rows[0]!.id;
});
afterAll(async () => {
  await pool?.end();
});

async function pendingRun(): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger)
     VALUES ($1, 1, 't', 'satellite.heartbeat_lost', $2, '{}') RETURNING id`,
    [automationId, randomUUID()],
  );
  return rows[0]!.id;
}

const status = async (runId: string) => (await pool.query<{ status: string }>("SELECT status FROM automation_runs WHERE id = $1", [runId])).rows[0]!.status;

describe("run sessions", () => {
  it("runs many runs at once on the shared connections, claimed, and gives every connection back", async () => {
    const sessions = createRunSessions(pool, { connections: 2 });
    const runIds = await Promise.all(Array.from({ length: 10 }, () => pendingRun()));
    const allInside = createSignal();
    const release = createSignal();
    const released = new Promise<void>((resolve) => release.subscribe(resolve));
    let inside = 0;
    const all = Promise.all(
      runIds.map((runId) =>
        sessions.withClaimedRun(runId, async ({ run }) => {
          expect(run.id).toBe(runId);
          if (++inside === runIds.length) allInside.emit();
          await released;
        }),
      ),
    );
    await new Promise<void>((resolve) => allInside.subscribe(resolve));
    // Ten runs in flight, each holding its lock, on two connections of the pool, and the ends' held beside them.
    expect(pool.totalCount - pool.idleCount).toBe(3);
    expect(await Promise.all(runIds.map(status))).toEqual(runIds.map(() => "running"));
    release.emit();
    await all;
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it("waits for a lock held elsewhere on a connection of its own, then claims", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    const holder = await pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${hashedLockKey("$1")})`, [LockKey.run(runId)]);
      let claimed = false;
      const executing = sessions.withClaimedRun(runId, async () => {
        claimed = true;
      });
      await untilWaitingForLock();
      expect(claimed).toBe(false);
      expect(await status(runId)).toBe("pending");
      await holder.query(`SELECT pg_advisory_unlock(${hashedLockKey("$1")})`, [LockKey.run(runId)]);
      await executing;
      expect(claimed).toBe(true);
      expect(await status(runId)).toBe("running");
    } finally {
      holder.release();
    }
  });

  it("serializes two executions of one run in this process, the second finding the first's records", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    const seen: number[] = [];
    const execute = () =>
      sessions.withClaimedRun(runId, async ({ session, steps }: OpenedRun) => {
        seen.push(steps.size);
        await session.write([startStepStatement(runId, `actions.${steps.size}`, "log", {})]);
      });
    await Promise.all([execute(), execute()]);
    expect(seen).toEqual([0, 1]);
  });

  it("sends a held-back outcome with the next write, in its transaction", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    let committed = false;
    await sessions.withClaimedRun(runId, async ({ session }) => {
      await session.write([startStepStatement(runId, "actions.0", "log", {})]);
      session.defer(finishStepStatement(runId, "actions.0", { status: "succeeded" }), () => (committed = true));
      expect(committed).toBe(false);
      // A failing statement rolls the held-back outcome back with it.
      await expect(session.write([{ text: "SELECT 1/0" }])).rejects.toThrow();
      expect(committed).toBe(false);
      const stored = await pool.query("SELECT status FROM automation_run_steps WHERE run_id = $1", [runId]);
      expect(stored.rows).toEqual([{ status: "running" }]);
      session.defer(finishStepStatement(runId, "actions.0", { status: "succeeded" }), () => (committed = true));
      await session.write([startStepStatement(runId, "actions.1", "log", {})]);
      expect(committed).toBe(true);
    });
    const { rows } = await pool.query("SELECT step_path, status FROM automation_run_steps WHERE run_id = $1 ORDER BY step_path", [runId]);
    expect(rows).toEqual([
      { step_path: "actions.0", status: "succeeded" },
      { step_path: "actions.1", status: "running" },
    ]);
  });

  it("tells whether something held back is yet to commit: held, or sent and not answered", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    await sessions.withClaimedRun(runId, async ({ session }) => {
      expect(session.uncommitted()).toBe(false);
      expect(await session.start("actions.0", "log", {}, null)).toBe(true);
      session.finish("actions.0", { status: "succeeded" });
      expect(session.uncommitted()).toBe(true);
      const carrying = session.start("actions.1", "log", {}, null);
      expect(session.uncommitted()).toBe(true);
      expect(await carrying).toBe(true);
      expect(session.uncommitted()).toBe(false);
      // A start alone carries nothing to commit.
      const alone = session.start("actions.2", "log", {}, null);
      expect(session.uncommitted()).toBe(false);
      expect(await alone).toBe(true);
    });
  });

  it("commits a marker without waiting for the WAL flush, unless it carries a held-back outcome", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    const SETTING = { text: "SELECT current_setting('synchronous_commit') AS setting" };
    const settings: unknown[] = [];
    await sessions.withClaimedRun(runId, async ({ session }) => {
      const [marker] = await session.write([SETTING], { marker: true });
      settings.push(marker!.rows[0].setting);
      await session.write([startStepStatement(runId, "actions.0", "log", {})], { marker: true });
      session.defer(finishStepStatement(runId, "actions.0", { status: "succeeded" }));
      const [outcome] = await session.write([SETTING], { marker: true });
      settings.push(outcome!.rows[0].setting);
      const [plain] = await session.write([SETTING]);
      settings.push(plain!.rows[0].setting);
    });
    expect(settings).toEqual(["off", "on", "on"]);
  });

  it("runs every transaction of a run's writes on generic plans, markers and durable writes alike", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    const PLAN_MODE = { text: "SELECT current_setting('plan_cache_mode') AS mode" };
    const modes: unknown[] = [];
    await sessions.withClaimedRun(runId, async ({ session }) => {
      const [marker] = await session.write([PLAN_MODE], { marker: true });
      const [durable] = await session.write([PLAN_MODE]);
      modes.push(marker!.rows[0].mode, durable!.rows[0].mode);
    });
    expect(modes).toEqual(["force_generic_plan", "force_generic_plan"]);
  });

  it("answers markers sent with durable writes from a transaction of their own, which waits for no WAL flush", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const [markerRun, durableRun] = await Promise.all([pendingRun(), pendingRun()]);
    const SETTING = { text: "SELECT current_setting('synchronous_commit') AS setting, txid_current() AS xid" };
    const bothClaimed = createSignal();
    const go = new Promise<void>((resolve) => bothClaimed.subscribe(resolve));
    let claimed = 0;
    const answers = new Map<string, { setting: string; xid: string }>();
    await Promise.all(
      [markerRun, durableRun].map((runId) =>
        sessions.withClaimedRun(runId, async ({ session }) => {
          if (++claimed === 2) bothClaimed.emit();
          await go;
          // Both asked in one turn of the event loop: one round trip.
          const [result] = await session.write([SETTING], { marker: runId === markerRun });
          answers.set(runId, result!.rows[0]);
        }),
      ),
    );
    expect(answers.get(markerRun)!.setting).toBe("off");
    expect(answers.get(durableRun)!.setting).toBe("on");
    expect(answers.get(markerRun)!.xid).not.toBe(answers.get(durableRun)!.xid);
  });

  it("sends the writes of many runs together, and a write that fails fails alone: the others sent with it are stored", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runIds = await Promise.all(Array.from({ length: 8 }, () => pendingRun()));
    const failing = runIds[3]!;
    const allStarted = createSignal();
    const go = new Promise<void>((resolve) => allStarted.subscribe(resolve));
    let started = 0;
    const outcomes = await Promise.allSettled(
      runIds.map((runId) =>
        sessions.withClaimedRun(runId, async ({ session }) => {
          expect(await session.start("actions.0", "log", {}, null)).toBe(true);
          session.finish("actions.0", { status: "succeeded" });
          if (++started === runIds.length) allStarted.emit();
          await go;
          // Every run writes at once: one round trip, one transaction, until one fails.
          if (runId === failing) await session.write([{ text: "SELECT 1/0" }]);
          else expect(await session.end({ status: "succeeded" })).toBe(true);
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(runIds.map((runId) => (runId === failing ? "rejected" : "fulfilled")));
    const { rows } = await pool.query<{ id: string; status: string; step: string }>(
      `SELECT r.id, r.status, s.status AS step FROM automation_runs r JOIN automation_run_steps s ON s.run_id = r.id WHERE r.id = ANY($1::uuid[])`,
      [runIds],
    );
    const byRun = new Map(rows.map((row) => [row.id, `${row.status}/${row.step}`]));
    // The failing run's held-back outcome went down with its write; every other run ended with its step's outcome.
    expect(runIds.map((runId) => byRun.get(runId))).toEqual(runIds.map((runId) => (runId === failing ? "running/running" : "succeeded/succeeded")));
    // Every lock given up, the failing run's too.
    const free = await pool.query<{ free: boolean }>(
      `SELECT bool_and(pg_try_advisory_xact_lock(${hashedLockKey("key")})) AS free FROM unnest($1::text[]) AS key`,
      [runIds.map((runId) => LockKey.run(runId))],
    );
    expect(free.rows[0]!.free).toBe(true);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it("does nothing for a run that cannot be claimed, and leaves its lock free", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const runId = await pendingRun();
    await pool.query("UPDATE automation_runs SET status = 'succeeded' WHERE id = $1", [runId]);
    let called = false;
    await sessions.withClaimedRun(runId, async () => {
      called = true;
    });
    expect(called).toBe(false);
    const { rows } = await pool.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${hashedLockKey("$1")}) AS free`, [LockKey.run(runId)]);
    expect(rows[0]!.free).toBe(true);
  });

  it("completes the job executing a run in the transaction of the run's end, and no other job", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const [runId, other] = [await pendingRun(), await pendingRun()];
    const addJob = async (run: string) =>
      (
        await pool.query<{ id: string }>(
          "SELECT id::text FROM graphile_worker.add_job('automation.run', json_build_object('runId', $1::uuid), job_key := $1::text)",
          [run],
        )
      ).rows[0]!.id;
    const [jobId, otherJobId] = [await addJob(runId), await addJob(other)];
    const jobs = async () =>
      (await pool.query<{ id: string }>("SELECT id::text FROM graphile_worker.jobs WHERE id = ANY($1::bigint[]) ORDER BY id", [[jobId, otherJobId]])).rows.map(
        (row) => row.id,
      );
    await sessions.withClaimedRun(
      runId,
      async ({ session }) => {
        expect(await jobs()).toEqual([jobId, otherJobId]);
        expect(await session.end({ status: "succeeded" })).toBe(true);
        expect(await jobs()).toEqual([otherJobId]);
      },
      jobId,
    );
    expect(await status(runId)).toBe("succeeded");
  });

  it("sends the runs' ends through a connection of their own: a run's claim and start are answered while another run's end waits", async () => {
    const sessions = createRunSessions(pool, { connections: 1 });
    const [ending, starting] = [await pendingRun(), await pendingRun()];
    // Holds the ending run's row: its end's UPDATE waits for it, as one waiting for a flush would.
    const blocker = await pool.connect();
    try {
      await blocker.query("BEGIN");
      const claimed = createSignal();
      const ended = sessions.withClaimedRun(ending, async ({ session }) => {
        const end = session.end({ status: "succeeded" });
        claimed.emit();
        expect(await end).toBe(true);
      });
      await new Promise<void>((resolve) => claimed.subscribe(resolve));
      await blocker.query("SELECT 1 FROM automation_runs WHERE id = $1 FOR UPDATE", [ending]);
      await untilWaitingForRowLock();
      // On the one shared connection the ending run holds its lock on, the other run is claimed and its step started.
      await sessions.withClaimedRun(starting, async ({ session }) => {
        expect(await session.start("actions.0", "log", {}, null)).toBe(true);
      });
      expect(await status(starting)).toBe("running");
      expect(await status(ending)).toBe("running");
      await blocker.query("COMMIT");
      await ended;
      expect(await status(ending)).toBe("succeeded");
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      blocker.release();
    }
    // The ended run's lock was given up on the connection that held it, and every connection went back.
    const { rows } = await pool.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${hashedLockKey("$1")}) AS free`, [LockKey.run(ending)]);
    expect(rows[0]!.free).toBe(true);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });

  it("ends the runs of every shared connection asked while an end is out in one transaction", async () => {
    const sessions = createRunSessions(pool, { connections: 2 });
    const [first, ...later] = await Promise.all(Array.from({ length: 4 }, () => pendingRun()));
    const blocker = await pool.connect();
    try {
      const allClaimed = createSignal();
      const firstEnding = createSignal();
      const laterEnding = createSignal();
      let claimed = 0;
      const on = (signal: ReturnType<typeof createSignal>) => new Promise<void>((resolve) => signal.subscribe(resolve));
      const [claimedAll, firstEnds, laterEnd] = [on(allClaimed), on(firstEnding), on(laterEnding)];
      // Spread over both shared connections (each run joins the least used one).
      let asked = 0;
      const executions = [first!, ...later].map((runId) =>
        sessions.withClaimedRun(runId, async ({ session }) => {
          if (++claimed === 4) allClaimed.emit();
          // The first end waits for the run's row; the others are asked meanwhile.
          await (runId === first ? firstEnds : laterEnd);
          const ended = session.end({ status: "succeeded" });
          asked++;
          expect(await ended).toBe(true);
        }),
      );
      await claimedAll;
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM automation_runs WHERE id = $1 FOR UPDATE", [first!]);
      firstEnding.emit();
      await untilWaitingForRowLock();
      laterEnding.emit();
      // Asked (and queued: behind a few promise reactions) before the first end can be answered.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(asked).toBe(4);
      await blocker.query("COMMIT");
      await Promise.all(executions);
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      blocker.release();
    }
    const { rows } = await pool.query<{ xmin: string; status: string }>("SELECT xmin::text, status FROM automation_runs WHERE id = ANY($1::uuid[])", [later]);
    expect(rows.map((row) => row.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    // The three ends asked while the first was out went in the next round trip, one transaction.
    expect(new Set(rows.map((row) => row.xmin)).size).toBe(1);
  });
});

describe("run-status announcements (migration 0035)", () => {
  /**
   * The payloads of the entity changes channel that reach a listener while `work` runs: a
   * sentinel NOTIFY sent after it arrives after everything `work` committed (notifications
   * arrive in commit order), so nothing is waited for by time.
   */
  async function notifiedDuring(work: () => Promise<void>): Promise<string[]> {
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    try {
      const payloads: string[] = [];
      let sentinelArrived: (() => void) | undefined;
      listener.on("notification", (message) => {
        if (message.payload === "sentinel") sentinelArrived?.();
        else payloads.push(message.payload ?? "");
      });
      await listener.query(`LISTEN ${ENTITY_CHANGES_CHANNEL}`);
      await work();
      const arrived = new Promise<void>((resolve) => (sentinelArrived = resolve));
      await pool.query("SELECT pg_notify($1, 'sentinel')", [ENTITY_CHANGES_CHANNEL]);
      await arrived;
      return payloads;
    } finally {
      await listener.end();
    }
  }

  const runOnce = (announce?: () => void) => async () => {
    const sessions = createRunSessions(pool, { connections: 1, announce });
    const runId = await pendingRun();
    await sessions.withClaimedRun(runId, async ({ session }) => {
      expect(await session.end({ status: "succeeded" })).toBe(true);
    });
    // Recorded as before: created, running, succeeded.
    const { rows } = await pool.query(
      "SELECT next->>'status' AS status FROM entity_changes WHERE kind = 'automation-run-status' AND entity_id = $1 ORDER BY seq",
      [runId],
    );
    expect(rows.map((row) => row.status)).toEqual(["pending", "running", "succeeded"]);
  };

  it("announces the changes of a run's claim and end once each committed, with no NOTIFY inside their transactions", async () => {
    const run = await pendingRun(); // its insert notifies, before the listener listens
    let announced = 0;
    const payloads = await notifiedDuring(async () => {
      const sessions = createRunSessions(pool, { connections: 1, announce: () => announced++ });
      await sessions.withClaimedRun(run, async ({ session }) => {
        expect(announced).toBe(1); // the claim's
        expect(await session.end({ status: "succeeded" })).toBe(true);
      });
    });
    expect(payloads).toEqual([]);
    expect(announced).toBe(2);
    expect(await status(run)).toBe("succeeded");
  });

  it("records the same changes either way, and without an announcer the triggers notify as before", async () => {
    const announced: string[] = [];
    // The pending run's insert only (written through the pool, not a session).
    expect(await notifiedDuring(runOnce(() => announced.push("run")))).toEqual([""]);
    expect(announced).toEqual(["run", "run"]);
    // The pending run's insert, its claim and its end: one NOTIFY per transaction.
    expect(await notifiedDuring(runOnce())).toEqual(["", "", ""]);
  });
});

/** Resolves once a session of this database waits for an advisory lock (one query per check). */
async function untilWaitingForLock(): Promise<void> {
  for (;;) {
    const { rows } = await pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    if (rows.length > 0) return;
  }
}

/** Until a backend of this test's database waits for a row lock (a transaction's). */
async function untilWaitingForRowLock(): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'transactionid' AND NOT l.granted AND a.datname = current_database()`,
    );
    if (rows.length > 0) return;
  }
}
