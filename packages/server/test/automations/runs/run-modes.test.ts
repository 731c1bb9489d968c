// Run modes end to end: restart cancels the running run, queued runs go one at a time in order, a for: trigger runs once it held.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AutomationView } from "../../../src/automations/definitions/automation-store.ts";
import { listRuns, listSkips, type RunView } from "../../../src/automations/runs/automation-runs.ts";
import { listSteps } from "../../../src/automations/runs/run-records.ts";
import { waitFor } from "../../support/instance.ts";
import { useRunEngine } from "../../support/automations/run-engine.ts";

const engine = useRunEngine("run-modes");

const hook = (path: string) => ({ webhook: { url: `${engine.receiver.origin}${path}`, retries: 0 } });
const satelliteHook = (prefix: string) => hook(`${prefix}/{{ trigger.payload.satelliteId }}`);
const online = { compare: { left: "entity('satellite-connection', trigger.payload.satelliteId).status", op: "==", right: "'online'" } };
const save = (actions: unknown[], extra: Record<string, unknown>) => engine.routing.saveAutomation(actions, extra);
const runsOf = async (automation: AutomationView): Promise<RunView[]> => (await listRuns(engine.core.pool, automation.id)).reverse();
const ended = (run: RunView) => ["succeeded", "failed", "cancelled"].includes(run.status);

async function untilAllEnded(automation: AutomationView, count: number): Promise<RunView[]> {
  let runs: RunView[] = [];
  const check = async () => {
    runs = await runsOf(automation);
    return runs.length === count && runs.every(ended);
  };
  let done = false;
  await waitFor(
    () => done,
    (wake) => engine.stored.subscribe(() => void check().then((value) => ((done = value), wake()))),
    15_000,
    `${count} runs to end`,
  );
  return runs;
}

describe("run modes, executed", () => {
  it("restart cancels the running run: it never executes another step, the new run completes", async () => {
    const automation = await save([{ wait_until: { condition: online, timeout: "1h" } }, satelliteHook("/done")], { mode: "restart" });
    const first = await engine.routing.loseHeartbeat();
    const waiting = () => engine.events.filter((event) => event.type === "step" && event.status === "waiting").length;
    await waitFor(() => waiting() === 1, engine.stored.subscribe, 10_000, "the first run to wait");
    const second = await engine.routing.loseHeartbeat();
    await waitFor(() => waiting() === 2, engine.stored.subscribe, 10_000, "the second run to wait");

    const [older, newer] = await runsOf(automation);
    expect(older!.status).toBe("cancelled");
    expect(older!.error).toBe(`restarted: superseded by run ${newer!.id}`);
    // Both satellites come back: only the new run may go on.
    await engine.routing.service.markConnected({ satelliteId: first, sessionId: randomUUID() });
    await engine.routing.service.markConnected({ satelliteId: second, sessionId: randomUUID() });
    await untilAllEnded(automation, 2);

    expect(engine.receiver.requests.map((request) => request.path)).toEqual([`/done/${second}`]);
    expect((await listSteps(engine.core.pool, older!.id)).map((step) => [step.path, step.status])).toEqual([["actions.0", "cancelled"]]);
    expect((await runsOf(automation)).map((run) => run.status)).toEqual(["cancelled", "succeeded"]);
  });

  it("queued runs execute one at a time, in the order they were triggered", async () => {
    const automation = await save([satelliteHook("/start"), { delay: { duration: "100ms" } }, satelliteHook("/end")], { mode: "queued" });
    const satellites: string[] = [];
    for (let index = 0; index < 3; index++) satellites.push(await engine.routing.loseHeartbeat());

    const runs = await untilAllEnded(automation, 3);
    expect(runs.map((run) => run.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(engine.receiver.requests.map((request) => request.path)).toEqual(satellites.flatMap((id) => [`/start/${id}`, `/end/${id}`]));
    // Never overlapping: each run started after the one before it finished.
    for (let index = 1; index < runs.length; index++)
      expect(Date.parse(runs[index]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(runs[index - 1]!.finishedAt!));
    expect(await listSkips(engine.core.pool, automation.id)).toEqual([]);
  });

  it("for: executes the run once the satellite stayed lost for the duration, with the original change", async () => {
    const automation = await save([satelliteHook("/still-lost")], { triggers: [{ event: "satellite.heartbeat_lost", for: "1s" }] });
    const satelliteId = await engine.routing.loseHeartbeat();
    const [run] = await untilAllEnded(automation, 1);
    expect(run!.status).toBe("succeeded");
    expect(engine.receiver.requests.map((request) => request.path)).toEqual([`/still-lost/${satelliteId}`]);
    // Decided when the duration had passed since the change, not before.
    expect(Date.parse(run!.createdAt)).toBeGreaterThanOrEqual(Date.parse(run!.trigger.change!.occurredAt) + 1_000);
  });
});
