// Flow steps: choose re-enters its stored branch, parallel runs and cancels branches, wait_until wakes on a change, a time boundary or its timeout.
import { describe, expect, it } from "vitest";
import type { AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { listRuns } from "../../../src/automations/runs/automation-runs.ts";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { AutomationTask } from "../../../src/automations/runs/automation-jobs.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";
import { createSignal, waitFor } from "../../support/instance.ts";
import { header, useRunEngine } from "../../support/automations/run-engine.ts";

const engine = useRunEngine("run-flow");
const { saveAutomation, loseHeartbeat, ended, reached, onlyRun } = engine;

const STATUS = "entity('satellite-connection', trigger.payload.satelliteId).status";
const statusIs = (status: "online" | "offline") => ({ compare: { left: STATUS, op: "==", right: `'${status}'` } });
const compare = (left: string, op: string, right: string) => ({ compare: { left, op, right } });
const hook = (path: string, extra: Record<string, unknown> = {}) => ({ webhook: { url: `${engine.receiver.origin}${path}`, ...extra } });
const paths = (receiver: HttpReceiver = engine.receiver) => receiver.requests.map((request) => request.path);

const untilEnded = () => waitFor(() => ended(), engine.stored.subscribe, 10_000, "the run to end");
const untilReached = (path: string, status: string) =>
  waitFor(() => reached(path, status) !== undefined, engine.stored.subscribe, 10_000, `${path} to be ${status}`);
const untilExecuted = (count: number) => waitFor(() => engine.executions.finished === count, engine.stored.subscribe, 10_000, `${count} executions`);

async function stepsOf(automation: AutomationView) {
  const run = await onlyRun(automation);
  return (await listSteps(engine.core.pool, run.id)).map((step) => [step.path, step.status, step.output]);
}

async function scheduledAt(runId: string): Promise<Date[]> {
  const { rows } = await engine.core.pool.query<{ run_at: Date }>("SELECT run_at FROM graphile_worker.jobs WHERE key = $1", [runId]);
  return rows.map((row) => row.run_at);
}

async function dueAt(runId: string, path: string): Promise<Date> {
  const { rows } = await engine.core.pool.query<{ due_at: Date }>("SELECT due_at FROM automation_run_steps WHERE run_id = $1 AND step_path = $2", [
    runId,
    path,
  ]);
  return rows[0]!.due_at;
}

describe("choose", () => {
  const branch = (condition: unknown, path: string) => ({ conditions: [condition], then: [hook(path)] });
  const usEast = () => branch(compare("trigger.payload.region", "==", "'us-east'"), "/us");

  it.each([
    {
      name: "runs the first branch whose conditions hold, recording its index",
      when: () => [usEast(), branch(statusIs("offline"), "/offline"), branch(compare("trigger.payload.region", "==", "'eu-west'"), "/eu")],
      otherwise: false,
      chosen: 1,
      requests: ["/offline", "/after"],
    },
    { name: "runs else when no branch holds", when: () => [usEast()], otherwise: true, chosen: "else", requests: ["/else", "/after"] },
    {
      name: "runs nothing when no branch holds and there is no else, then goes on",
      when: () => [usEast()],
      otherwise: false,
      chosen: null,
      requests: ["/after"],
    },
  ])("$name", async ({ when, otherwise, chosen, requests }) => {
    const automation = await saveAutomation([{ choose: { when: when(), ...(otherwise ? { else: [hook("/else")] } : {}) } }, hook("/after")]);
    await loseHeartbeat();
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths()).toEqual(requests);
    const steps = await stepsOf(automation);
    expect(steps[0]).toEqual(["actions.0", "succeeded", { branch: chosen }]);
    // The choose step, one step per request.
    expect(steps).toHaveLength(requests.length + 1);
  });

  it("re-enters the chosen branch after a worker restart without choosing again, each request arriving once", async () => {
    const automation = await saveAutomation([
      {
        choose: {
          when: [{ conditions: [statusIs("offline")], then: [hook("/before"), { delay: { duration: "1s" } }, hook("/after")] }],
          else: [hook("/else")],
        },
      },
    ]);
    const satelliteId = await loseHeartbeat();
    await untilReached("actions.0.choose.when.0.then.1", "waiting");
    await engine.workers[0]!.stop();
    // Chosen again now, the branch would be `else`: the satellite is back online.
    await engine.routing.service.markRecovered({ satelliteId });
    await engine.startWorker();
    await untilEnded();

    const run = await onlyRun(automation);
    expect(run.status).toBe("succeeded");
    expect(engine.receiver.requests.map((request) => [request.path, header(request.headers["idempotency-key"])])).toEqual([
      ["/before", `${run.id}:actions.0.choose.when.0.then.0`],
      ["/after", `${run.id}:actions.0.choose.when.0.then.2`],
    ]);
    expect(await stepsOf(automation)).toEqual([
      ["actions.0", "succeeded", { branch: 0 }],
      ["actions.0.choose.when.0.then.0", "succeeded", expect.anything()],
      ["actions.0.choose.when.0.then.1", "succeeded", null],
      ["actions.0.choose.when.0.then.2", "succeeded", expect.anything()],
    ]);
  });
});

describe("parallel", () => {
  it("runs every branch and succeeds once all did", async () => {
    const automation = await saveAutomation([{ parallel: { branches: [[hook("/a")], [hook("/b1"), hook("/b2")]] } }, hook("/after")]);
    await loseHeartbeat();
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths().sort()).toEqual(["/a", "/after", "/b1", "/b2"]);
    expect(paths().at(-1)).toBe("/after");
    expect((await stepsOf(automation)).filter(([, status]) => status !== "succeeded")).toEqual([]);
  });

  // The other branch's first step takes a second (an unanswered request), so the failure or
  // stop has happened by its next step boundary, where it must end.
  it.each([
    { name: "fails the step and the run when a branch fails; the other branch stops at its next step", first: () => [hook("/fails")], status: "failed" },
    { name: "ends the run at a stop in a branch; the other branch stops at its next step", first: () => [{ stop: { reason: "enough" } }], status: "succeeded" },
  ])("$name", async ({ first, status }) => {
    const slow = await startHttpReceiver();
    try {
      slow.answer("hang");
      engine.receiver.answer({ status: 404 });
      const automation = await saveAutomation([
        {
          parallel: { branches: [first(), [{ webhook: { url: `${slow.origin}/slow`, timeoutMs: 1_000, retries: 0 }, continueOnError: true }, hook("/never")]] },
        },
        hook("/never-after"),
      ]);
      await loseHeartbeat();
      await untilEnded();

      const run = await onlyRun(automation);
      expect(run.status).toBe(status);
      expect(paths(slow)).toEqual(["/slow"]);
      expect(paths().filter((path) => path.startsWith("/never"))).toEqual([]);
      const steps = await stepsOf(automation);
      expect(steps.map(([path]) => path)).not.toContain("actions.0.parallel.branches.1.1");
      if (status === "failed") {
        expect(steps[0]).toEqual(["actions.0", "failed", {}]);
        const { rows } = await engine.core.pool.query<{ error: string }>("SELECT error FROM automation_runs WHERE id = $1", [run.id]);
        expect(rows[0]!.error).toMatch(/^step actions\.0\.parallel\.branches\.0\.0 failed: .* answered 404$/);
      } else {
        expect(steps[0]).toEqual(["actions.0", "succeeded", { stopped: { reason: "enough" } }]);
        expect(run.stopReason).toBe("enough");
      }
    } finally {
      await slow.close();
    }
  });

  it("closes a branch's waiting delay as cancelled when another branch fails the run", async () => {
    engine.receiver.answer({ status: 404 });
    const automation = await saveAutomation([{ parallel: { branches: [[{ delay: { duration: "1h" } }], [hook("/fails")]] } }]);
    await loseHeartbeat();
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("failed");
    // Branches start side by side: compare in path order.
    expect((await stepsOf(automation)).map(([path, status]) => [path, status]).sort()).toEqual([
      ["actions.0", "failed"],
      ["actions.0.parallel.branches.0.0", "cancelled"],
      ["actions.0.parallel.branches.1.0", "failed"],
    ]);
  });

  it("lets the other branches finish while one waits, then resumes the run when the delay is due", async () => {
    const automation = await saveAutomation([{ parallel: { branches: [[{ delay: { duration: "1s" } }, hook("/a-after")], [hook("/b")]] } }]);
    await loseHeartbeat();
    await untilReached("actions.0.parallel.branches.1.0", "succeeded");
    await untilExecuted(1);

    expect((await onlyRun(automation)).status).toBe("running");
    expect(paths()).toEqual(["/b"]);
    await untilEnded();
    expect(engine.executions.started).toBe(2);
    expect(paths()).toEqual(["/b", "/a-after"]);
    const run = await onlyRun(automation);
    const delay = (await listSteps(engine.core.pool, run.id)).find((step) => step.path === "actions.0.parallel.branches.0.0")!;
    expect(Date.parse(delay.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(delay.dueAt!));
  });

  it("schedules the run's job at the earliest due time of its waiting steps", async () => {
    const automation = await saveAutomation([{ parallel: { branches: [[{ delay: { duration: "1h" } }], [{ delay: { duration: "1s" } }, hook("/soon")]] } }]);
    await loseHeartbeat();
    await untilExecuted(1);
    const run = await onlyRun(automation);
    const soon = await dueAt(run.id, "actions.0.parallel.branches.1.0");
    const late = await dueAt(run.id, "actions.0.parallel.branches.0.0");
    expect(await scheduledAt(run.id)).toEqual([soon]);

    await waitFor(() => paths().includes("/soon"), engine.stored.subscribe, 10_000, "the 1 s branch to go on");
    await untilExecuted(2);
    expect(await scheduledAt(run.id)).toEqual([late]);
    expect((await onlyRun(automation)).status).toBe("running");
  });
});

describe("wait_until", () => {
  const waitUntil = (condition: unknown, timeout: string, continueOnTimeout = false) => ({ wait_until: { condition, timeout, continueOnTimeout } });

  async function waits(runId: string) {
    const { rows } = await engine.core.pool.query("SELECT step_path, entity_kind, entity_id FROM automation_run_waits WHERE run_id = $1", [runId]);
    return rows;
  }

  it("goes on at once when the condition already holds", async () => {
    const automation = await saveAutomation([waitUntil(statusIs("offline"), "1h"), hook("/next")]);
    await loseHeartbeat();
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths()).toEqual(["/next"]);
    expect((await stepsOf(automation))[0]).toEqual(["actions.0", "succeeded", { satisfied: true }]);
    expect(engine.executions.started).toBe(1);
  });

  it("looks again at each boundary of its time windows, which no change announces", async () => {
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().slice(11, 19); // HH:MM:SS, UTC
    const automation = await saveAutomation([waitUntil({ time: { after: at(3_000), before: at(600_000) } }, "1h"), hook("/in-window")]);
    await loseHeartbeat();
    await untilReached("actions.0", "waiting");
    await untilExecuted(1);
    const run = await onlyRun(automation);
    // Scheduled at the next whole second, long before the 1 h timeout.
    const [scheduled] = await scheduledAt(run.id);
    expect(scheduled!.getTime()).toBeLessThan((await dueAt(run.id, "actions.0")).getTime() - 3_000_000);
    expect(scheduled!.getMilliseconds()).toBe(0);
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths()).toEqual(["/in-window"]);
    expect((await stepsOf(automation))[0]).toEqual(["actions.0", "succeeded", { satisfied: true }]);
    expect(await waits(run.id)).toEqual([]);
  });

  it("is woken by the change that makes its condition true, not by polling", async () => {
    // Jobs that become due are found by polling only once a minute; new ones arrive by NOTIFY.
    await engine.workers[0]!.stop();
    await engine.startWorker({ pollIntervalMs: 60_000 });
    const automation = await saveAutomation([waitUntil(statusIs("online"), "1h"), hook("/next")]);
    const satelliteId = await loseHeartbeat();
    await untilReached("actions.0", "waiting");
    await untilExecuted(1);
    const run = await onlyRun(automation);
    expect(await waits(run.id)).toEqual([{ step_path: "actions.0", entity_kind: "satellite-connection", entity_id: satelliteId }]);
    expect(await scheduledAt(run.id)).toEqual([await dueAt(run.id, "actions.0")]);
    expect(paths()).toEqual([]);

    await engine.routing.service.markRecovered({ satelliteId });
    const committed = Date.now();
    await untilEnded();

    expect(engine.executions.started).toBe(2);
    expect(reached("actions.0", "succeeded")!.at - committed).toBeLessThan(1_000);
    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths()).toEqual(["/next"]);
    expect((await stepsOf(automation))[0]).toEqual(["actions.0", "succeeded", { satisfied: true }]);
    expect(await waits(run.id)).toEqual([]);
  });

  it("goes on after its timeout with continueOnTimeout, the step recording that it timed out", async () => {
    const automation = await saveAutomation([waitUntil(statusIs("online"), "1s", true), hook("/next")]);
    await loseHeartbeat();
    await untilEnded();

    expect((await onlyRun(automation)).status).toBe("succeeded");
    expect(paths()).toEqual(["/next"]);
    expect((await stepsOf(automation))[0]).toEqual(["actions.0", "succeeded", { satisfied: false, timedOut: true }]);
  });

  it("fails the run at its timeout without continueOnTimeout", async () => {
    const automation = await saveAutomation([waitUntil(statusIs("online"), "1s"), hook("/next")]);
    await loseHeartbeat();
    await untilEnded();

    const run = await onlyRun(automation);
    expect(run.status).toBe("failed");
    expect(run.error).toBe("step actions.0 failed: timed out after 1000 ms");
    expect(paths()).toEqual([]);
    expect(await waits(run.id)).toEqual([]);
  });
});

describe("one execution at a time, and only while the run is running", () => {
  it("stops a run cancelled during a step before its next step, without ending it", async () => {
    engine.receiver.answer("hang");
    const automation = await saveAutomation([{ ...hook("/slow", { timeoutMs: 1_000, retries: 0 }), continueOnError: true }, hook("/next")]);
    await loseHeartbeat();
    await waitFor(() => engine.receiver.requests.length === 1, engine.receiver.subscribe, 10_000, "the first request");
    const run = await onlyRun(automation);
    // As the cancel API does; the request in flight then times out, and the step fails.
    await engine.core.pool.query("UPDATE automation_runs SET status = 'cancelled' WHERE id = $1", [run.id]);
    await untilExecuted(1);

    expect((await onlyRun(automation)).status).toBe("cancelled");
    expect(paths()).toEqual(["/slow"]);
    // Branches start side by side: compare in path order.
    expect((await stepsOf(automation)).map(([path, status]) => [path, status]).sort()).toEqual([["actions.0", "failed"]]);
    expect(ended()).toBe(false);
  });

  it("never executes a step twice when two jobs of one run execute at once", async () => {
    await engine.workers[0]!.stop();
    const { pool, hub } = engine.core;
    const found = createSignal();
    let runId: string | undefined;
    const look = async () => {
      runId ??= (await listRuns(pool, automation.id))[0]?.id;
      found.emit();
    };
    const automation = await saveAutomation([hook("/once")]);
    // The run's job is added with the run: graphile-worker NOTIFYs jobs:insert.
    const unlisten = await hub.subscribe("jobs:insert", () => void look());
    const client = await pool.connect();
    try {
      await loseHeartbeat();
      await look();
      await waitFor(() => runId !== undefined, found.subscribe, 10_000, "the run to be recorded");
      // Both executions start while the run's row is locked, so both are inside execute() at once.
      await client.query("BEGIN");
      await client.query("SELECT 1 FROM automation_runs WHERE id = $1 FOR UPDATE", [runId]);
      await pool.query(`SELECT graphile_worker.add_job('${AutomationTask.run}', json_build_object('runId', $1::uuid))`, [runId]);
      await engine.startWorker();
      await waitFor(() => engine.executions.started === 2, engine.stored.subscribe, 10_000, "both jobs to start");
      await untilBlocked(2);
      await client.query("COMMIT");
      await untilExecuted(2);

      expect((await onlyRun(automation)).status).toBe("succeeded");
      expect(paths()).toEqual(["/once"]);
      expect((await listSteps(pool, runId!)).map((step) => [step.path, step.status, step.attempts])).toEqual([["actions.0", "succeeded", 1]]);
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
      await unlisten();
    }
  });
});

/** Resolves once `count` sessions of this database wait for a lock (one query per check, no pause). */
async function untilBlocked(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await engine.core.pool.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE NOT l.granted AND a.datname = current_database()`,
    );
    if (rows[0]!.waiting >= count) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} sessions to wait for a lock`);
  }
}
