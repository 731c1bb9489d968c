// The `parallel` action: every branch runs at once, each a sequence. The first branch that
// fails or stops (or finds the run cancelled) decides the step, and the others stop at their
// next step boundary; a branch that waits lets the others go on until they end or wait too.
import { compositeStep, type Flow, type FlowModule, HALTED, NEXT, SUSPENDED } from "./flow.ts";

export const parallelAction: FlowModule<"parallel"> = async (action, record, context) => {
  if (!record && !(await context.start(action.path, "parallel", { branches: action.branches.length }))) return HALTED;
  return compositeStep(action.path, record, context, {}, async () => {
    const siblings = new AbortController();
    const signal = AbortSignal.any([context.signal, siblings.signal]);
    let decisive: Flow | undefined;
    const flows = await Promise.all(
      action.branches.map(async (branch) => {
        const flow = await context.runSequence(branch, signal);
        if (!decisive && flow.type !== "next" && flow.type !== "suspended") {
          decisive = flow;
          siblings.abort();
        }
        return flow;
      }),
    );
    return decisive ?? (flows.some((flow) => flow.type === "suspended") ? SUSPENDED : NEXT);
  });
};
