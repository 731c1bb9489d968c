// The `notify` action: NotificationService.send through the channel named by id or, failing
// that, by name. `notification_undeliverable` (unreachable, 5xx, 429) is retried with backoff.
import { isVantageError } from "../../errors.ts";
import type { NotificationService } from "../../notifications/index.ts";
import { renderTemplate } from "../expressions/index.ts";
import { isUuid } from "../ids.ts";
import { type ActionModule, type AttemptResult, withRetries } from "./step.ts";

/** Retries after a failed delivery (the action has no field for it yet). */
export const NOTIFY_RETRIES = 3;

async function channelId(notifications: Pick<NotificationService, "channels">, channel: string): Promise<string> {
  if (isUuid(channel)) return channel;
  const named = (await notifications.channels.list()).find((view) => view.name === channel);
  return named?.id ?? channel;
}

export function createNotifyAction(notifications: Pick<NotificationService, "send" | "channels">): ActionModule<"notify"> {
  return async (action, context) => {
    const title = action.title ? await renderTemplate(action.title, context.evaluation) : context.automation.name;
    const message = await renderTemplate(action.message, context.evaluation);
    const attempt = async (): Promise<AttemptResult> => {
      try {
        const receipt = await notifications.send(await channelId(notifications, action.channel), { title, message, payload: { runId: context.runId, step: context.path, trigger: context.evaluation.trigger } }, { signal: context.signal });
        return { ok: true, output: { status: receipt.status ?? null } };
      } catch (error) {
        if (!isVantageError(error)) throw error;
        return { ok: false, retryable: error.code === "notification_undeliverable", error: error.message };
      }
    };
    return { input: { channel: action.channel, title, message }, execute: () => withRetries(NOTIFY_RETRIES, context, attempt) };
  };
}
