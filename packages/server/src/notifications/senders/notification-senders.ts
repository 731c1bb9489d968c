// NotificationSenders: the sender of every channel type, built once — the dispatch table
// NotificationService delivers through.
import type { ChannelSettingsOf, ChannelType } from "../channel-schemas.ts";
import type { ChannelSender, DeliveryReceipt, Notification, ResolvedChannel, SendOptions } from "./channel-sender.ts";
import { createEmailSender } from "./email-sender.ts";
import { createDiscordSender, createSlackSender, createWebhookSender } from "./http-senders.ts";

export type NotificationSenders = { [T in ChannelType]: ChannelSender<ChannelSettingsOf[T]> };

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

/** Delivers through the sender of the channel's type. */
export function deliver(
  senders: NotificationSenders,
  channel: ResolvedChannel,
  notification: Notification,
  options: SendOptions = {},
): Promise<DeliveryReceipt> {
  // TypeScript cannot correlate senders[type] with settings of the same type; the union guarantees it.
  const send = senders[channel.type] as ChannelSender<ResolvedChannel["settings"]>;
  return send(channel.settings, notification, options);
}
