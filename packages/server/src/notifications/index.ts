// Notification channels (webhook, Slack, Discord, email): stored with their secrets sealed,
// managed over /api/v1/notification-channels, and sent through by NotificationService.
export { NotificationService } from "./notification-service.ts";
export { createNotificationChannelRoutes } from "./routes.ts";
export type { ChannelUsers } from "./routes.ts";
export { createNotificationSenders } from "./senders/notification-senders.ts";
export type { Severity } from "./senders/channel-sender.ts";
export { startNotifications } from "./start.ts";
export type { NotificationsModule, NotificationsOptions } from "./start.ts";
export { createChannelSchema, SECRET_FIELDS } from "./channel-schemas.ts";
export type { ChannelType, CreateChannelRequest } from "./channel-schemas.ts";
export type { NotificationChannelStore } from "./channel-store.ts";
