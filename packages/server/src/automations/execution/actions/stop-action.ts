// The `stop` action: ends the run as succeeded, with its rendered reason.
import { renderTemplate } from "../../expressions/index.ts";
import type { ActionModule } from "./step.ts";

export const stopAction: ActionModule<"stop"> = async (action, context) => {
  const reason = action.reason ? await renderTemplate(action.reason, context.evaluation) : null;
  return { input: { reason }, execute: async () => ({ status: "stopped", reason }) };
};
