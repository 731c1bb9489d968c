// Starts the notifications module in a core: the channels with their senders, and the
// channels' API, which refuses to rename or delete a channel that another module sends through.
import type { CoreModule, ModuleDeps } from "../core-module.ts";
import { NotificationService } from "./notification-service.ts";
import { type ChannelUsers, createNotificationChannelRoutes } from "./routes.ts";
import { createNotificationSenders } from "./senders/notification-senders.ts";

/** Knobs tests and labs turn; production runs on the defaults. */
export interface NotificationsOptions {
  /** How long one delivery may take. */
  deliveryTimeoutMs?: number;
}

export interface NotificationsModule extends CoreModule {
  /** Sends through stored channels (the automations' notify steps). */
  service: NotificationService;
  /** Registers a module's lookup of what names a channel (e.g. the automations' notify steps). */
  addChannelUsers(users: ChannelUsers): void;
}

export async function startNotifications(deps: ModuleDeps, options: NotificationsOptions = {}): Promise<NotificationsModule> {
  const service = new NotificationService({
    pool: deps.pool,
    box: deps.box,
    senders: createNotificationSenders({ now: deps.now, timeoutMs: options.deliveryTimeoutMs }),
  });
  const lookups: ChannelUsers[] = [];
  const usedBy: ChannelUsers = async (channel) => (await Promise.all(lookups.map((lookup) => lookup(channel)))).flat();
  return {
    routes: { "/notification-channels": createNotificationChannelRoutes({ service }, usedBy) },
    service,
    addChannelUsers: (users) => void lookups.push(users),
  };
}
