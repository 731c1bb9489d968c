// The `log` action: one pino line with the rendered message.
import { renderTemplate } from "../../expressions/index.ts";
import type { ActionModule } from "./step.ts";

export const logAction: ActionModule<"log"> = async (action, context) => {
  const message = await renderTemplate(action.message, context.evaluation);
  return {
    input: { message },
    countsAttemptFirst: true,
    execute: async () => {
      await context.countAttempt();
      context.logger.info({ automationId: context.automation.id, automation: context.automation.name, runId: context.runId, step: context.path }, message);
      return { status: "succeeded" };
    },
  };
};
