// The job-queue contract: the SQL that adds a run's or a timer's job and the SQL that removes
// it agree on the key, the two kinds of key never meet, and a payload that is not ours is refused.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addRunJob, addTimerJob, AutomationTask, parseJobPayload, removeRunJob, removeTimerJob } from "../../../src/automations/runs/automation-jobs.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await createTestDatabase()).url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
});
beforeEach(async () => {
  await pool.query("DELETE FROM graphile_worker._private_jobs");
});

const jobs = async () =>
  (
    await pool.query<{
      task_identifier: string;
      key: string;
      payload: unknown;
    }>(`SELECT task.identifier AS task_identifier, job.key, job.payload FROM graphile_worker._private_jobs job
       JOIN graphile_worker._private_tasks task ON task.id = job.task_id ORDER BY job.key`)
  ).rows;

describe("the job-queue contract", () => {
  it("removes the run's job that adding it made", async () => {
    const runId = randomUUID();
    await pool.query(`SELECT ${addRunJob("$1::uuid")}`, [runId]);
    expect(await jobs()).toEqual([{ task_identifier: AutomationTask.run, key: runId, payload: { runId } }]);
    await pool.query(`SELECT ${removeRunJob("$1::uuid")}`, [runId]);
    expect(await jobs()).toEqual([]);
  });

  it("removes the timer's job that adding it made, and leaves a run of the same id alone", async () => {
    const id = randomUUID();
    await pool.query(`SELECT ${addRunJob("$1::uuid")}`, [id]);
    await pool.query(`SELECT ${addTimerJob("$1::uuid", "now() + interval '1 hour'")}`, [id]);
    expect((await jobs()).map((job) => job.task_identifier).sort()).toEqual([AutomationTask.run, AutomationTask.timer].sort());
    await pool.query(`SELECT ${removeTimerJob("$1::uuid")}`, [id]);
    expect(await jobs()).toEqual([{ task_identifier: AutomationTask.run, key: id, payload: { runId: id } }]);
  });

  it("adds a run's job once however often it is added, replacing the waiting one", async () => {
    const runId = randomUUID();
    await pool.query(`SELECT ${addRunJob("$1::uuid", "now() + interval '1 hour'")}`, [runId]);
    await pool.query(`SELECT ${addRunJob("$1::uuid")}`, [runId]);
    const { rows } = await pool.query<{ due_now: boolean }>("SELECT run_at <= now() AS due_now FROM graphile_worker.jobs WHERE key = $1", [runId]);
    expect(rows).toEqual([{ due_now: true }]);
  });

  it("refuses a payload that is not the task's", () => {
    expect(parseJobPayload(AutomationTask.run, { runId: "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10" })).toEqual({ runId: "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10" });
    expect(() => parseJobPayload(AutomationTask.run, { timerId: "8f0e4f38-3c57-4d57-9b52-6f4d0d5c3a10" })).toThrow();
    expect(() => parseJobPayload(AutomationTask.timer, { timerId: "not-a-uuid" })).toThrow();
  });
});
