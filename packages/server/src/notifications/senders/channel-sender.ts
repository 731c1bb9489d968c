// ChannelSender: the one interface every channel type delivers through, what it is given and
// answers, and the errors a delivery fails with: transient (retry later) or rejected (the
// receiver refused; fix the channel).
import type { NotifyAction } from "@vantage/protocol";
import { VantageError } from "../../errors.ts";
import type { ChannelSettingsOf, ChannelType } from "../channel-schemas.ts";

/** info, warning or critical: the values a `notify` step may set. */
export type Severity = NonNullable<NotifyAction["severity"]>;

export interface Notification {
  title: string;
  message: string;
  severity?: Severity;
  /** Structured detail: sent as JSON by webhooks, appended to emails; chat channels show only the text. */
  payload?: Record<string, unknown>;
}

export interface DeliveryReceipt {
  /** The receiver's status: the HTTP status, or the SMTP reply code. */
  status?: number;
}

export interface SendOptions {
  /** Cancels the delivery (each sender also stops at its own timeout). */
  signal?: AbortSignal;
  /**
   * Names this notification across retries, sent as `Idempotency-Key` by webhook channels: a
   * notify step's `<runId>:<stepPath>`. Absent, every call is a new notification with a fresh key.
   */
  idempotencyKey?: string;
}

/** Delivers or throws a VantageError (see undeliverable and rejected below). */
export type ChannelSender<Settings> = (settings: Settings, notification: Notification, options: SendOptions) => Promise<DeliveryReceipt>;

/** A channel with its secrets decrypted: only ever in memory, on its way to a sender. */
export type ResolvedChannel = { [T in ChannelType]: { id: string; name: string; type: T; settings: ChannelSettingsOf[T] } }[ChannelType];

/** Worth retrying later: unreachable, timed out, or an answer the outbound retry table calls transient (429, most 5xx …). */
export function undeliverable(message: string, options: { status?: number; cause?: unknown } = {}): VantageError {
  return new VantageError("transient", "notification_undeliverable", message, { cause: options.cause, details: { status: options.status } });
}

/** Not worth retrying: the receiver refused (most 4xx, a redirect, SMTP 5xx, bad credentials); the channel needs fixing. */
export function rejected(message: string, options: { status?: number; cause?: unknown } = {}): VantageError {
  return new VantageError("invalid_input", "notification_rejected", message, { cause: options.cause, details: { status: options.status } });
}

/** The title with its severity in front, e.g. `[CRITICAL] eu-west is down`: the subject line of every channel. */
export function headline(notification: Notification): string {
  return notification.severity ? `[${notification.severity.toUpperCase()}] ${notification.title}` : notification.title;
}
