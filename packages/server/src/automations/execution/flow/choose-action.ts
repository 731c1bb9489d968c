// The `choose` action: the first `when` branch whose conditions hold, else `else`, else
// nothing. The choice is stored before the branch runs, so a resumed run re-enters the same
// branch without evaluating again (the entities may have changed since).
import type { EvaluationContext } from "../../expressions/index.ts";
import { compositeStep, type FlowModule, HALTED } from "./flow.ts";
import type { ActionOf } from "../actions/step.ts";

type Branch = number | "else" | null;

async function pick(action: ActionOf<"choose">, evaluation: EvaluationContext): Promise<Branch> {
  for (const [index, branch] of action.when.entries()) {
    if (await branch.conditions(evaluation)) return index;
  }
  return action.otherwise.length > 0 ? "else" : null;
}

const branchActions = (action: ActionOf<"choose">, branch: Branch) =>
  branch === null ? [] : branch === "else" ? action.otherwise : (action.when[branch]?.then ?? []);

export const chooseAction: FlowModule<"choose"> = async (action, record, context) => {
  const stored = (record?.output as { branch?: Branch } | null | undefined)?.branch;
  const branch = stored !== undefined ? stored : await pick(action, context.evaluation);
  if (stored === undefined && !(await context.start(action.path, "choose", { branches: action.when.length, else: action.otherwise.length > 0 }, { branch })))
    return HALTED;
  return compositeStep(action.path, record, context, { branch }, () => context.runSequence(branchActions(action, branch), context.signal));
};
