// Runs named by their ids are found never through the index of active runs, however small the planner believes
// the indexes of active runs to be. The database here is one analyzed while it held only ended
// runs (a day of history), with a thousand runs active since — a mass outage before autovacuum
// analyzes again: storage/found-by-key.ts says why a plain status test then reads every active run.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoutedChange } from "../../../src/entities/types.ts";
import { claimRunsStatement, finishRunsStatement, openHandedRunsStatement, startStepsStatement } from "../../../src/automations/runs/run-record-batches.ts";
import { claimRunStatement, finishRunStatement, startStepStatement } from "../../../src/automations/runs/run-records.ts";
import { anyRunWaitsOn, wakeWaitingRuns } from "../../../src/automations/runs/run-waits.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";
import { expectKeyedReads, planningClient, plannedReads, type TableReads } from "../../support/query-plans.ts";

const ENDED_RUNS = 3000;
const ACTIVE_RUNS = 1000;

let pool: pg.Pool;
let pendingIds: string[];
let runningIds: string[];

/** Inserts runs as a replica would: the run tables' triggers record no changes for them. */
async function insertRuns(automationId: string, status: string, count: number): Promise<string[]> {
  const { rows } = await withTransaction(
    pool,
    (client) =>
      client.query<{ id: string }>(
        `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger, finished_at)
         SELECT $1, 1, 'test', 'satellite.connected', gen_random_uuid(), $2, '{}'::jsonb,
                CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() END
         FROM generate_series(1, $3) RETURNING id`,
        [automationId, status, count],
      ),
    { begin: "BEGIN; SET LOCAL session_replication_role = replica" },
  );
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await createTestDatabase()).url, max: 2 });
  const automationId = randomUUID();
  await pool.query("INSERT INTO automations (id, name, definition, trigger_events) VALUES ($1, $2, '{}'::jsonb, '{}')", [
    automationId,
    `lookups-${automationId}`,
  ]);
  await insertRuns(automationId, "succeeded", ENDED_RUNS);
  await pool.query("VACUUM ANALYZE automation_runs");
  pendingIds = await insertRuns(automationId, "pending", ACTIVE_RUNS / 2);
  runningIds = await insertRuns(automationId, "running", ACTIVE_RUNS / 2);
});
afterAll(async () => {
  await pool?.end();
});

const reads = (text: string, values: readonly unknown[]) => plannedReads(pool, "automation_runs", text, values);
const ACTIVE_RUN_INDEXES = ["automation_runs_active", "automation_runs_queued"];
const neverThroughActiveRuns = (planned: TableReads) => expectKeyedReads(planned, ACTIVE_RUN_INDEXES, "automation_runs_pkey");

describe("looking runs up by id while the statistics know of no active run", () => {
  it("is the trap it guards against: a plain status test reads the index of active runs", async () => {
    const planned = await reads("SELECT 1 FROM automation_runs WHERE id = $1 AND status = 'running'", [runningIds[0]]);
    expect(planned).toEqual({ custom: ["automation_runs_active"], generic: ["automation_runs_active"] });
  });

  it("claims, opens, starts steps of and ends a batch of runs never through the index of active runs", async () => {
    const claims = pendingIds.slice(0, 60).map((runId) => ({ runId, tryLock: true }));
    const opens = runningIds.slice(0, 60).map((runId) => ({ runId, xmin: "1", needDefinition: true }));
    const starts = runningIds
      .slice(0, 60)
      .map((runId) => ({ runId, path: "actions.0", kind: "webhook", input: {}, output: null, countAttempt: true, openedXmin: "1" }));
    const ends = runningIds.slice(0, 60).map((runId) => ({ runId, result: { status: "succeeded" as const } }));
    for (const statement of [claimRunsStatement(claims), openHandedRunsStatement(opens), startStepsStatement(starts), finishRunsStatement(ends)]) {
      neverThroughActiveRuns(await reads(statement.text, statement.values ?? []));
    }
  });

  it("claims, starts a step of and ends one run never through the index of active runs", async () => {
    const runId = runningIds[1]!;
    for (const statement of [
      claimRunStatement(pendingIds[1]!),
      startStepStatement(runId, "actions.0", "webhook", {}),
      finishRunStatement(runId, { status: "succeeded" }),
    ]) {
      neverThroughActiveRuns(await reads(statement.text, statement.values ?? []));
    }
  });

  it("probes and wakes the runs waiting on a routed batch never through the index of active runs", async () => {
    const batch = [{ change: { kind: "satellite", id: randomUUID() } }] as unknown as RoutedChange[];
    const planning = planningClient(pool, "automation_runs", [{ waiting: false }]);
    await anyRunWaitsOn(planning.client, batch);
    await wakeWaitingRuns(batch, planning.client);
    expect(planning.reads).toHaveLength(2);
    for (const planned of planning.reads) neverThroughActiveRuns(planned);
  });
});
