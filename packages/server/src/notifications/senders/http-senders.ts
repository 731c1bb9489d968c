// Webhook, Slack and Discord deliveries: one JSON POST each through the core's outbound client
// (no redirects followed). Error messages name only the receiver's origin: Slack and Discord
// URLs carry their token in the path.
import { randomUUID } from "node:crypto";
import { SIGNATURE_HEADER, signWebhook } from "../../crypto/index.ts";
import { IDEMPOTENCY_HEADER, outbound } from "../../outbound/index.ts";
import type { ChannelSettingsOf } from "../channel-schemas.ts";
import { discordMessage, slackText } from "./chat-format.ts";
import { type ChannelSender, type DeliveryReceipt, rejected, undeliverable } from "./channel-sender.ts";

export interface HttpSenderOptions {
  timeoutMs: number;
  /** The clock for signature timestamps, in epoch milliseconds. */
  now: () => number;
}

// How much of a refusal's body goes into the error: it often says why.
const ERROR_BODY_CHARS = 200;

async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<DeliveryReceipt> {
  const result = await outbound.request({
    url,
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
    signal,
    timeoutMs,
    secretUrl: true,
    maxBodyBytes: ERROR_BODY_CHARS * 4,
    // An incident notifies the same channel many times: keep its connection.
    reuseConnection: true,
  });
  if (result.ok) return { status: result.status };
  const answer =
    result.kind === "status" ? `${result.statusText ? ` ${result.statusText}` : ""}${result.body ? `: ${result.body.slice(0, ERROR_BODY_CHARS)}` : ""}` : "";
  throw (result.retryable ? undeliverable : rejected)(`${result.message}${answer}.`, { status: result.status, cause: result.cause });
}

export function createWebhookSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["webhook"]> {
  return (settings, notification, { signal, idempotencyKey }) => {
    const { title, message, severity, payload } = notification;
    const body = JSON.stringify({ title, message, severity, payload, sentAt: new Date(options.now()).toISOString() });
    // A retry of a notify step sends the same key; anything else is a new notification.
    const headers: Record<string, string> = { ...settings.headers, [IDEMPOTENCY_HEADER]: idempotencyKey ?? randomUUID() };
    if (settings.secret) headers[SIGNATURE_HEADER] = signWebhook(settings.secret, body, options.now());
    return postJson(settings.url, body, headers, signal, options.timeoutMs);
  };
}

export function createSlackSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["slack"]> {
  return (settings, notification, { signal }) => {
    const body = JSON.stringify({ text: slackText(notification, { mentions: settings.mentions ?? false }) });
    return postJson(settings.webhookUrl, body, {}, signal, options.timeoutMs);
  };
}

export function createDiscordSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["discord"]> {
  return (settings, notification, { signal }) => {
    const body = JSON.stringify(discordMessage(notification, { mentions: settings.mentions ?? false }));
    return postJson(settings.webhookUrl, body, {}, signal, options.timeoutMs);
  };
}
