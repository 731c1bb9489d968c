// Webhook, Slack and Discord deliveries: one JSON POST each through the global fetch. Error
// messages name only the receiver's origin: Slack and Discord URLs carry their token in the path.
import { SIGNATURE_HEADER, signWebhook } from "../crypto/index.ts";
import type { ChannelSettingsOf } from "./channel-schemas.ts";
import { type ChannelSender, type DeliveryReceipt, headline, rejected, undeliverable, withTimeout } from "./sender.ts";

export interface HttpSenderOptions {
  timeoutMs: number;
  /** The clock for signature timestamps, in epoch milliseconds. */
  now: () => number;
}

const DISCORD_MAX_CONTENT = 2000;
const ERROR_BODY_CHARS = 200;

async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal, timeoutMs: number): Promise<DeliveryReceipt> {
  const origin = new URL(url).origin;
  let response: Response;
  try {
    // Redirects are not followed: fetch would turn the POST into a GET, losing the notification.
    response = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body, signal, redirect: "manual" });
  } catch (error) {
    if (signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError") {
      throw undeliverable(`${origin} did not answer within ${timeoutMs} ms.`, { cause: error });
    }
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    throw undeliverable(`Could not reach ${origin}: ${reason}.`, { cause: error });
  }
  // Read (a little of) the body in every case: it frees the connection, and it often says why.
  const text = (await response.text().catch(() => "")).slice(0, ERROR_BODY_CHARS);
  if (response.ok) return { status: response.status };
  const message = `${origin} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${text ? `: ${text}` : ""}`;
  const retryable = response.status >= 500 || response.status === 429;
  throw (retryable ? undeliverable : rejected)(`${message}.`, { status: response.status });
}

export function createWebhookSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["webhook"]> {
  return (settings, notification, { signal }) => {
    const { title, message, severity, payload } = notification;
    const body = JSON.stringify({ title, message, severity, payload, sentAt: new Date(options.now()).toISOString() });
    const headers: Record<string, string> = { ...settings.headers };
    if (settings.secret) headers[SIGNATURE_HEADER] = signWebhook(settings.secret, body, options.now());
    return postJson(settings.url, body, headers, withTimeout(signal, options.timeoutMs), options.timeoutMs);
  };
}

export function createSlackSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["slack"]> {
  return (settings, notification, { signal }) => {
    const body = JSON.stringify({ text: `*${headline(notification)}*\n${notification.message}` });
    return postJson(settings.webhookUrl, body, {}, withTimeout(signal, options.timeoutMs), options.timeoutMs);
  };
}

export function createDiscordSender(options: HttpSenderOptions): ChannelSender<ChannelSettingsOf["discord"]> {
  return (settings, notification, { signal }) => {
    const content = `**${headline(notification)}**\n${notification.message}`;
    // Discord refuses longer content with a 400: better a cut message than none.
    const body = JSON.stringify({ content: content.length > DISCORD_MAX_CONTENT ? `${content.slice(0, DISCORD_MAX_CONTENT - 1)}…` : content });
    return postJson(settings.webhookUrl, body, {}, withTimeout(signal, options.timeoutMs), options.timeoutMs);
  };
}
