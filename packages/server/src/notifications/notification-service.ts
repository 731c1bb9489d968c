// Sends notifications through stored channels: the automation `notify` action's entry point,
// and the test delivery behind POST /api/v1/notification-channels/:id/test.
import type pg from "pg";
import type { SecretBox } from "../crypto/index.ts";
import { isVantageError } from "../errors.ts";
import type { z } from "zod";
import type { testDeliveryResultSchema } from "./channel-schemas.ts";
import { NotificationChannelStore } from "./channel-store.ts";
import type { DeliveryReceipt, Notification, SendOptions } from "./senders/channel-sender.ts";
import { deliver, type NotificationSenders } from "./senders/notification-senders.ts";

export interface NotificationServiceOptions {
  pool: pg.Pool;
  box: SecretBox;
  /** One sender per channel type: createNotificationSenders() in production. */
  senders: NotificationSenders;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/** The outcome of a test delivery, as the API answers it. */
export type TestDeliveryResult = z.infer<typeof testDeliveryResultSchema>;

export class NotificationService {
  readonly channels: NotificationChannelStore;
  private readonly senders: NotificationSenders;

  constructor(options: NotificationServiceOptions) {
    this.channels = new NotificationChannelStore(options);
    this.senders = options.senders;
  }

  /**
   * Delivers through the channel, or throws a VantageError: `notification_undeliverable`
   * (transient: retry with backoff), `notification_rejected` (invalid_input: the receiver
   * refused, retrying will not help), `notification_channel_not_found`, or a secret-key error.
   */
  async send(channelId: string, notification: Notification, options: SendOptions = {}): Promise<DeliveryReceipt> {
    const channel = await this.channels.resolve(channelId);
    return deliver(this.senders, channel, notification, options);
  }

  /** Sends a test notification; a failed delivery is a result, not an error. */
  async test(channelId: string): Promise<TestDeliveryResult> {
    const channel = await this.channels.resolve(channelId);
    const notification: Notification = {
      title: "Vantage test notification",
      message: `This is a test of the notification channel "${channel.name}". If you can read it, the channel works.`,
      severity: "info",
      payload: { test: true, channelId: channel.id, channelName: channel.name },
    };
    try {
      const { status } = await deliver(this.senders, channel, notification);
      return { ok: true, status };
    } catch (error) {
      const delivery = isVantageError(error) && (error.code === "notification_undeliverable" || error.code === "notification_rejected");
      if (!delivery) throw error;
      return { ok: false, status: error.details?.status as number | undefined, error: error.message, retryable: error.kind === "transient" };
    }
  }
}
