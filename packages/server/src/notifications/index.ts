// Notification channels (webhook, Slack, Discord, email): stored with their secrets sealed,
// managed over /api/v1/notification-channels, and sent through by NotificationService.
export { CHANNEL_TYPES, createChannelSchema, SECRET_FIELDS, updateChannelSchemas } from "./channel-schemas.ts";
export type { ChannelSettingsOf, ChannelType, CreateChannelRequest, UpdateChannelRequest } from "./channel-schemas.ts";
export { channelNotFound, NotificationChannelStore } from "./channel-store.ts";
export type { ChannelView, NotificationChannelStoreOptions } from "./channel-store.ts";
export { NotificationService } from "./notification-service.ts";
export type { NotificationServiceOptions, TestDeliveryResult } from "./notification-service.ts";
export { createNotificationChannelRoutes } from "./routes.ts";
export type { ChannelUsers } from "./routes.ts";
export { createNotificationSenders, DEFAULT_DELIVERY_TIMEOUT_MS } from "./senders.ts";
export type { NotificationSendersOptions } from "./senders.ts";
export { deliver } from "./sender.ts";
export type { ChannelSender, DeliveryReceipt, Notification, NotificationSenders, ResolvedChannel, SendOptions, Severity } from "./sender.ts";
