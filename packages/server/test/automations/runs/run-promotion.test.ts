// Promotion of queued runs at a run's end: exactly once per free scope, whatever the
// automation's mode is now (runs queued under an earlier version's mode queued included), and
// free of writes where nothing is queued (migration 0037).
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlStatement } from "../../../src/entities/index.ts";
import { cancelRun, promoteNextQueuedOfRunsStatement } from "../../../src/automations/runs/run-admission.ts";
import { finishRunsStatement, lockScopesOfRunsStatement } from "../../../src/automations/runs/run-record-batches.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool, withTransaction } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { pollUntil } from "../../support/poll.ts";

let pool: pg.Pool;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "run-promotion", max: 4 });
});

afterAll(async () => {
  await pool?.end();
});

type Status = "queued" | "pending" | "running";

/** An automation now in `mode`, with runs of its one scope (the automation's: no context key) created in the order given. */
async function scopeWithRuns(mode: string, statuses: readonly Status[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    "INSERT INTO automations (name, definition, trigger_events) VALUES ($1, jsonb_build_object('mode', $2::text), '{}') RETURNING id",
    [`promotion-${randomUUID()}`, mode],
  );
  const { rows: runs } = await pool.query<{ id: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger, created_at)
     SELECT $1, 1, 't', 'satellite.heartbeat_lost', gen_random_uuid(), status, '{}', clock_timestamp() + make_interval(secs => ord)
     FROM unnest($2::text[]) WITH ORDINALITY AS r(status, ord) ORDER BY ord RETURNING id`,
    [rows[0]!.id, statuses],
  );
  return runs.map((run) => run.id);
}

const statusOf = async (runId: string): Promise<string> =>
  (await pool.query<{ status: string }>("SELECT status FROM automation_runs WHERE id = $1", [runId])).rows[0]!.status;

/** How often the run was recorded moving to `pending`, and how many jobs it has: once each when promoted once. */
async function promotions(runId: string): Promise<{ recorded: number; jobs: number }> {
  const { rows } = await pool.query<{ recorded: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM entity_changes WHERE kind = 'automation-run-status' AND entity_id = $1::text AND delta->>'status' = 'pending') AS recorded,
            (SELECT count(*)::int FROM graphile_worker._private_jobs WHERE key = $1::text) AS jobs`,
    [runId],
  );
  return rows[0]!;
}

/** A run session's end of one run, as run-write-batch.ts sends it: the scope's lock, the end, the promotion. */
const endStatements = (runId: string): SqlStatement[] => [
  lockScopesOfRunsStatement([runId]),
  finishRunsStatement([{ runId, result: { status: "succeeded" } }]),
  promoteNextQueuedOfRunsStatement([runId]),
];

const send = (client: pg.PoolClient, statement: SqlStatement) => client.query(statement.text, statement.values as unknown[]);

describe("promotion of queued runs", () => {
  it("promotes a run queued under mode queued once, when two runs of its scope end at once after the mode became parallel", async () => {
    // Version 1 (mode queued) queued `next` behind `first`; version 2 (mode parallel) started `second` at once.
    const [first, next, second] = await scopeWithRuns("parallel", ["running", "queued", "running"]);
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query("BEGIN");
      for (const statement of endStatements(first!)) await send(a, statement);
      // `first` ended but not committed: `second`'s promotion must not run before it can see that.
      await b.query("BEGIN");
      const bPid = (await b.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const ending = (async () => {
        for (const statement of endStatements(second!)) await send(b, statement);
        return "ended";
      })();
      let bEnded = false;
      void ending.then(() => (bEnded = true));
      // Either B waits for A's scope lock (it must), or it ended without it (it promoted nothing: `first` still ran).
      await pollUntil(
        async () =>
          bEnded ||
          (await pool.query<{ waiting: boolean }>("SELECT count(*) > 0 AS waiting FROM pg_locks WHERE pid = $1 AND NOT granted", [bPid])).rows[0]!.waiting,
        (done) => done,
        10_000,
        "the second end to wait for the scope's lock or to end",
      );
      await a.query("COMMIT");
      await ending;
      await b.query("COMMIT");
    } finally {
      a.release();
      b.release();
    }
    expect(await statusOf(next!)).toBe("pending");
    expect(await promotions(next!)).toEqual({ recorded: 1, jobs: 1 });
  });

  it("promotes the next run queued under mode queued when a run is cancelled after the mode changed, once", async () => {
    const [running, next, later] = await scopeWithRuns("single", ["running", "queued", "queued"]);
    expect(await withTransaction(pool, (tx) => cancelRun(tx, running!, "cancelled by the test"))).toBe(true);
    expect(await withTransaction(pool, (tx) => cancelRun(tx, running!, "cancelled again"))).toBe(false);
    expect([await statusOf(next!), await statusOf(later!)]).toEqual(["pending", "queued"]);
    expect(await promotions(next!)).toEqual({ recorded: 1, jobs: 1 });
    // A second end of the same scope promotes nothing while `next` is pending, and `later` once it ended.
    await withTransaction(pool, async (tx) => {
      for (const statement of [promoteNextQueuedOfRunsStatement([running!])]) await tx.query(statement.text, statement.values as unknown[]);
    });
    expect(await statusOf(later!)).toBe("queued");
    expect(await withTransaction(pool, (tx) => cancelRun(tx, next!, "cancelled by the test"))).toBe(true);
    expect(await statusOf(later!)).toBe("pending");
    expect(await promotions(later!)).toEqual({ recorded: 1, jobs: 1 });
  });

  it("writes nothing where no run is queued: the run-status trigger runs for the end alone", async () => {
    const [ending, other] = await scopeWithRuns("parallel", ["running", "running"]);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL track_functions = 'pl'");
      for (const statement of endStatements(ending!)) await send(client, statement);
      const { rows } = await client.query<{ calls: number }>(
        "SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_xact_user_functions WHERE funcname = 'vantage_record_updated_automation_runs'",
      );
      await client.query("COMMIT");
      // One call, the end's UPDATE: the promotion found no queued run and updated nothing.
      expect(rows[0]!.calls).toBe(1);
    } finally {
      client.release();
    }
    expect([await statusOf(ending!), await statusOf(other!)]).toEqual(["succeeded", "running"]);
  });
});
