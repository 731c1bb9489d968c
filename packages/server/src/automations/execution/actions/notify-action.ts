// The `notify` action: NotificationService.send through the channel named by id or, failing
// that, by name, with the step's severity and its idempotency key (the same on every retry).
// `notification_undeliverable` (what the outbound retry table calls transient) is retried with backoff.
import { canonicalUuid } from "@vantage/protocol";
import { isVantageError } from "../../../errors.ts";
import type { NotificationService, Severity } from "../../../notifications/index.ts";
import { renderTemplate } from "../../expressions/index.ts";
import { type ActionModule, type AttemptResult, withRetries } from "./step.ts";
import { stepIdempotencyKey } from "./webhook-action.ts";

/** Retries after a failed delivery (the action has no field for it yet). */
export const NOTIFY_RETRIES = 3;

/** A notify step that sets no severity is a warning: something to look at, not (yet) a page. */
export const DEFAULT_NOTIFY_SEVERITY: Severity = "warning";

async function channelId(notifications: Pick<NotificationService, "channels">, channel: string): Promise<string> {
  const id = canonicalUuid(channel);
  if (id !== undefined) return id;
  const named = (await notifications.channels.list()).find((view) => view.name === channel);
  return named?.id ?? channel;
}

export function createNotifyAction(notifications: Pick<NotificationService, "send" | "channels">): ActionModule<"notify"> {
  return async (action, context) => {
    const title = action.title ? await renderTemplate(action.title, context.evaluation) : context.automation.name;
    const message = await renderTemplate(action.message, context.evaluation);
    const severity = action.severity ?? DEFAULT_NOTIFY_SEVERITY;
    const notification = { title, message, severity, payload: { runId: context.runId, step: context.path, trigger: context.evaluation.trigger } };
    const idempotencyKey = stepIdempotencyKey(context);
    const attempt = async (): Promise<AttemptResult> => {
      try {
        const receipt = await notifications.send(await channelId(notifications, action.channel), notification, { idempotencyKey, signal: context.signal });
        return { ok: true, output: { status: receipt.status ?? null } };
      } catch (error) {
        if (!isVantageError(error)) throw error;
        return { ok: false, retryable: error.code === "notification_undeliverable", error: error.message };
      }
    };
    return {
      input: { channel: action.channel, title, message, severity },
      countsAttemptFirst: true,
      // Every attempt carries the step's idempotency key, as a webhook's does.
      overlapsStart: true,
      execute: () => withRetries(NOTIFY_RETRIES, context, attempt),
    };
  };
}
