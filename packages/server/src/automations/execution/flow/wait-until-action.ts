// The `wait_until` action: holds the run until its condition is true. A false condition makes
// the step a durable wait with its timeout as due time, registered on the entities the
// condition read, so a change to one of them wakes the run at once; the timeout wakes it too,
// and so does the next boundary of its time windows, if it has any.
import { withTransaction } from "../../../storage/index.ts";
import { settleStep, type StepResult, waitStep } from "../../runs/run-records.ts";
import { clearWaits, type EntityRef, recordingReader, registerWaits } from "../../runs/run-waits.ts";
import { endedStep, type Flow, type FlowContext, type FlowModule, HALTED, NEXT, stepFailed, SUSPENDED } from "./flow.ts";
import type { ActionOf } from "../actions/step.ts";

type WaitUntil = ActionOf<"wait_until">;

/** Evaluates the condition on current state; each evaluation reads afresh. */
async function check(action: WaitUntil, context: FlowContext): Promise<{ satisfied: boolean; reads: EntityRef[] }> {
  const reader = recordingReader(context.entities);
  const satisfied = await action.condition({ ...context.evaluation, entity: reader.entity, now: context.now() });
  return { satisfied, reads: reader.reads() };
}

/** Ends the step and drops its waits; false if the run is no longer running. */
async function settle(action: WaitUntil, context: FlowContext, result: StepResult): Promise<boolean> {
  const settled = await withTransaction(context.pool, async (tx) => {
    await clearWaits(tx, context.runId, action.path);
    return settleStep(tx, context.runId, action.path, result);
  });
  if (settled) context.emit(action.path, result.status);
  return settled;
}

const satisfied = async (action: WaitUntil, context: FlowContext): Promise<Flow> =>
  (await settle(action, context, { status: "succeeded", output: { satisfied: true } })) ? NEXT : HALTED;

async function timedOut(action: WaitUntil, context: FlowContext): Promise<Flow> {
  const result: StepResult = action.continueOnTimeout
    ? { status: "succeeded", output: { satisfied: false, timedOut: true } }
    : { status: "failed", output: { satisfied: false, timedOut: true }, error: `timed out after ${action.timeoutMs} ms` };
  if (!(await settle(action, context, result))) return HALTED;
  return result.status === "succeeded" ? NEXT : stepFailed(action.path, result.error ?? null);
}

/** The step waits (a due time already set is kept) on the entities it read; false if the run is no longer running. */
async function wait(action: WaitUntil, context: FlowContext, reads: readonly EntityRef[]): Promise<boolean> {
  const waiting = await withTransaction(context.pool, async (tx) => {
    if (!(await waitStep(tx, context.runId, action.path, action.timeoutMs, action.recheckEvery))) return false;
    await registerWaits(tx, context.runId, action.path, reads);
    return true;
  });
  if (waiting) context.emit(action.path, "waiting");
  return waiting;
}

export const waitUntilAction: FlowModule<"wait_until"> = async (action, record, context) => {
  const ended = endedStep(action, record);
  if (ended) return ended;
  if (
    record?.status !== "waiting" &&
    !(await context.start(action.path, "wait_until", { timeoutMs: action.timeoutMs, continueOnTimeout: action.continueOnTimeout }))
  )
    return HALTED;
  const first = await check(action, context);
  if (first.satisfied) return satisfied(action, context);
  if (record?.status === "waiting" && record.due) return timedOut(action, context);
  if (!(await wait(action, context, first.reads))) return HALTED;
  // A change routed between the first check and the registration's commit woke nobody: look again.
  return (await check(action, context)).satisfied ? satisfied(action, context) : SUSPENDED;
};
