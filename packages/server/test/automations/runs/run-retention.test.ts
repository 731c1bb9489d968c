// Run retention: ended runs and skips past it deleted in batches through their indexes, unfinished runs never, by one pruner per cluster.
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRunPruner, type PruneResult, pruneRuns } from "../../../src/automations/runs/run-retention.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { createSignal, waitFor } from "../../support/instance.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_MS = 30 * DAY_MS;

let pool: pg.Pool;
let automationId: string;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "run-retention", max: 4 });
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query("DELETE FROM automations");
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('retention', '{"name":"retention","triggers":[],"actions":[]}', '{}') RETURNING id`,
  );
  automationId = rows[0]!.id;
});

/** A run created `ageDays` ago; an ended one also finished then. Returns its id. */
async function insertRun(status: string, ageDays: number, finished = ["succeeded", "failed", "cancelled"].includes(status)): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger, created_at, started_at, finished_at)
     VALUES ($1, 1, 't', 'satellite.heartbeat_lost', gen_random_uuid(), $2, '{}', now() - make_interval(days => $3), now() - make_interval(days => $3),
             CASE WHEN $4 THEN now() - make_interval(days => $3) END)
     RETURNING id`,
    [automationId, status, ageDays, finished],
  );
  return rows[0]!.id;
}

async function insertSkip(ageDays: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automation_skips (automation_id, automation_version, trigger_id, trigger_event, change_id, reason, created_at)
     VALUES ($1, 1, 't', 'satellite.heartbeat_lost', gen_random_uuid(), 'condition_false', now() - make_interval(days => $2)) RETURNING id`,
    [automationId, ageDays],
  );
  return rows[0]!.id;
}

const ids = async (table: "automation_runs" | "automation_skips") =>
  (await pool.query<{ id: string }>(`SELECT id FROM ${table}`)).rows.map((row) => row.id).sort();
const stepCount = async (runId: string) =>
  Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM automation_run_steps WHERE run_id = $1", [runId])).rows[0]!.n);

describe("pruning runs and skips past the retention", () => {
  it("deletes ended runs and skips older than the retention, with their steps", async () => {
    const oldRuns = [await insertRun("succeeded", 31), await insertRun("failed", 45), await insertRun("cancelled", 400)];
    await pool.query("INSERT INTO automation_run_steps (run_id, step_path, kind, status) VALUES ($1, 'actions.0', 'log', 'succeeded')", [oldRuns[0]]);
    await insertSkip(31);

    expect(await pruneRuns(pool, RETENTION_MS)).toEqual({ runs: 3, skips: 1 });
    expect(await ids("automation_runs")).toEqual([]);
    expect(await ids("automation_skips")).toEqual([]);
    expect(await stepCount(oldRuns[0]!)).toBe(0);
  });

  it("keeps recent runs and skips, and never an unfinished run however old", async () => {
    const kept = [
      await insertRun("succeeded", 29),
      await insertRun("failed", 0),
      await insertRun("queued", 90),
      await insertRun("pending", 90),
      await insertRun("running", 90),
      // A run that ended recently but was created long ago: its age counts from its end.
      await pool
        .query<{ id: string }>("UPDATE automation_runs SET finished_at = now() - interval '1 day' WHERE id = $1 RETURNING id", [
          await insertRun("succeeded", 90),
        ])
        .then((r) => r.rows[0]!.id),
    ].sort();
    const keptSkip = await insertSkip(29);

    expect(await pruneRuns(pool, RETENTION_MS)).toEqual({ runs: 0, skips: 0 });
    expect(await ids("automation_runs")).toEqual(kept);
    expect(await ids("automation_skips")).toEqual([keptSkip]);
  });

  it("deletes in batches until a batch comes back short", async () => {
    for (let i = 0; i < 5; i += 1) {
      await insertRun("succeeded", 31 + i);
      await insertSkip(31 + i);
    }
    const recent = await insertRun("succeeded", 1);

    expect(await pruneRuns(pool, RETENTION_MS, 2)).toEqual({ runs: 5, skips: 5 });
    expect(await ids("automation_runs")).toEqual([recent]);
  });

  it("stops after the batch in hand when told to, leaving the rest to the next pass", async () => {
    for (let i = 0; i < 5; i += 1) await insertRun("succeeded", 31 + i);
    expect(await pruneRuns(pool, RETENTION_MS, 2, () => false)).toEqual({ runs: 2, skips: 0 });
    expect(await ids("automation_runs")).toHaveLength(3);
  });

  it("the deletes use the retention indexes", async () => {
    // Planner choice on a tiny table: forbid sequential scans so the test asks "can the index serve it".
    const client = await pool.connect();
    try {
      await client.query("SET enable_seqscan = off");
      const plan = async (sql: string) => (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`)).rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(
        await plan("SELECT id FROM automation_runs WHERE finished_at < now() AND status NOT IN ('queued', 'pending', 'running') ORDER BY finished_at LIMIT 10"),
      ).toContain("automation_runs_finished");
      expect(await plan("SELECT id FROM automation_skips WHERE created_at < now() ORDER BY created_at LIMIT 10")).toContain("automation_skips_created");
    } finally {
      client.release();
    }
  });
});

describe("the run retention pruner", () => {
  it("prunes on start as the one active pruner, and again every interval", async () => {
    const pruned = createSignal();
    const passes: PruneResult[] = [];
    await insertRun("succeeded", 31);
    const pruner = createRunPruner({
      pool,
      logger: silentLogger(),
      retentionDays: 30,
      intervalMs: 20,
      onPrune: (result) => {
        passes.push(result);
        pruned.emit();
      },
    });
    const standby = createRunPruner({ pool, logger: silentLogger(), retentionDays: 30, intervalMs: 20, onPrune: () => passes.push({ runs: -1, skips: -1 }) });
    pruner.start();
    try {
      await waitFor(() => passes.length >= 1, pruned.subscribe, 5_000, "the first pass");
      expect(passes[0]).toEqual({ runs: 1, skips: 0 });
      expect(pruner.isLeader()).toBe(true);
      standby.start();

      await insertSkip(40);
      const seen = passes.length;
      await waitFor(() => passes.slice(seen).some((pass) => pass.skips === 1), pruned.subscribe, 5_000, "a later pass pruning the new skip");
      expect(standby.isLeader()).toBe(false);
      expect(passes).not.toContainEqual({ runs: -1, skips: -1 });
    } finally {
      await standby.stop();
      await pruner.stop();
    }
  });
});
