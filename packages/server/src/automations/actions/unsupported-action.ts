// Action kinds the executor does not run yet (wait_until, choose, parallel): the step fails
// with a message that says so, and continueOnError decides whether the run goes on.
import type { PreparedStep } from "./step.ts";

export const unsupportedAction = async (action: { kind: string }): Promise<PreparedStep> => ({
  input: {},
  execute: async () => ({ status: "failed", error: `the ${action.kind} action is not supported yet` }),
});
