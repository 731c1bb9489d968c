// The automation worker replaces a runner that failed, after a growing pause, with a new lease, and stops cleanly while it waits to.
import { run, type Runner } from "graphile-worker";
import type pg from "pg";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type AutomationWorker, createAutomationWorker, defaultRestartDelayMs } from "../../../src/automations/execution/automation-worker.ts";
import { createRunExecutor } from "../../../src/automations/execution/run-executor.ts";
import { silentLogger } from "../../../src/log.ts";
import { createSignal, waitFor } from "../../support/instance.ts";
import { satelliteCompiler } from "../../support/automations/satellite-compiler.ts";
import { useRunEngine } from "../../support/automations/run-engine.ts";

const engine = useRunEngine("automation-worker", { worker: false });

/**
 * The real graphile-worker runner, whose promise the test can fail as a long database outage
 * would (graphile-worker gives up recording a job's end): one failure function per runner.
 */
function failableRunQueue(): { runQueue: typeof run; failures: Array<(error: Error) => void> } {
  const failures: Array<(error: Error) => void> = [];
  const runQueue: typeof run = async (options) => {
    const runner = await run(options);
    const failed = new Promise<never>((_, reject) => failures.push(reject));
    return { ...runner, promise: Promise.race([runner.promise, failed]) } as Runner;
  };
  return { runQueue, failures };
}

const executor = () =>
  createRunExecutor({
    pool: engine.core.pool,
    ...satelliteCompiler(),
    entities: engine.core.entities,
    notifications: engine.notifications,
    box: engine.routing.box,
    logger: silentLogger(),
  });

describe("the automation worker", () => {
  it("waits 1 s, 2 s, 4 s … 60 s before each attempt to replace a failed runner", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(defaultRestartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it("replaces a runner that failed, with a new lease, and goes on executing runs", async () => {
    const { runQueue, failures } = failableRunQueue();
    const restarted = createSignal();
    const worker: AutomationWorker = createAutomationWorker({
      connectionString: engine.db.url,
      pool: engine.core.pool,
      instanceId: "automation-worker",
      executor: executor(),
      logger: silentLogger(),
      pollIntervalMs: 50,
      restartDelayMs: () => 10,
      runQueue,
      onRestart: restarted.emit,
    });
    engine.workers.push(worker);
    await worker.start();
    const first = worker.workerId()!;

    failures[0]!(new Error("Could not completeJobs; queue is in an inconsistent state; aborting."));
    await waitFor(() => failures.length === 2 && worker.workerId() !== first, restarted.subscribe, 10_000, "a second runner");
    const { rows: leases } = await engine.core.pool.query<{ worker_id: string }>("SELECT worker_id FROM job_worker_leases");
    expect(leases.map((lease) => lease.worker_id)).toEqual([worker.workerId()]);

    await engine.saveAutomation([{ webhook: { url: `${engine.receiver.origin}/after-restart` } }]);
    await engine.loseHeartbeat();
    await waitFor(() => engine.receiver.requests.length === 1, engine.receiver.subscribe, 10_000, "the run's request");
    expect(engine.receiver.requests[0]!.path).toBe("/after-restart");
  });

  it("commits the job queue's locks and completions without waiting for the WAL flush, and nothing else", async () => {
    let jobPool: Pick<pg.Pool, "query"> | undefined;
    const worker = createAutomationWorker({
      connectionString: engine.db.url,
      pool: engine.core.pool,
      instanceId: "automation-worker",
      executor: executor(),
      logger: silentLogger(),
      runQueue: (options) => {
        jobPool = options.pgPool;
        return run(options);
      },
    });
    engine.workers.push(worker);
    await worker.start();
    const setting = async (pool: Pick<pg.Pool, "query">) =>
      (await pool.query<{ synchronous_commit: string }>("SHOW synchronous_commit")).rows[0]!.synchronous_commit;
    expect(await setting(jobPool!)).toBe("off");
    expect(await setting(engine.core.pool)).toBe("on");
  });

  it("starts without warning that its job pool is smaller than its concurrency (as intended), and says so at debug", async () => {
    const lines: Array<{ level: number; component?: string; msg: string }> = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const worker = createAutomationWorker({
      connectionString: engine.db.url,
      pool: engine.core.pool,
      instanceId: "automation-worker",
      executor: executor(),
      logger,
      concurrency: 64,
    });
    engine.workers.push(worker);
    await worker.start();
    const poolSize = lines.filter((line) => line.component === "graphile-worker" && line.msg.includes("maxPoolSize"));
    // pino's levels: 20 debug, 40 warn.
    expect(poolSize.map((line) => line.level)).toEqual([20]);
    expect(poolSize[0]!.msg).toContain("smaller than concurrency (64)");
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it("stops cleanly while it waits to replace a failed runner", async () => {
    const { runQueue, failures } = failableRunQueue();
    const worker = createAutomationWorker({
      connectionString: engine.db.url,
      pool: engine.core.pool,
      instanceId: "automation-worker",
      executor: executor(),
      logger: silentLogger(),
      restartDelayMs: () => 3_600_000,
      runQueue,
    });
    await worker.start();
    failures[0]!(new Error("fatal"));
    await worker.stop();
    expect(failures).toHaveLength(1);
    const { rowCount } = await engine.core.pool.query("SELECT 1 FROM job_worker_leases");
    expect(rowCount).toBe(0);
  });
});
