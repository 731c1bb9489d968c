// Builds the sender of every channel type once: the dispatch table NotificationService uses.
import { createEmailSender } from "./email-sender.ts";
import { createDiscordSender, createSlackSender, createWebhookSender } from "./http-senders.ts";
import type { NotificationSenders } from "./sender.ts";

/** How long one delivery may take, connecting included. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

export interface NotificationSendersOptions {
  timeoutMs?: number;
  /** The clock for webhook signature timestamps, in epoch milliseconds. */
  now?: () => number;
}

export function createNotificationSenders(options: NotificationSendersOptions = {}): NotificationSenders {
  const http = { timeoutMs: options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS, now: options.now ?? Date.now };
  return {
    webhook: createWebhookSender(http),
    slack: createSlackSender(http),
    discord: createDiscordSender(http),
    email: createEmailSender({ timeoutMs: http.timeoutMs }),
  };
}
