// The notification channels' HTTP routes, mounted at /api/v1/notification-channels behind the
// admin guard: create, list, read, update (secrets kept unless given), delete, and test.
import { type Context, Hono } from "hono";
import { VantageError } from "../errors.ts";
import { pathId, readJsonBody } from "../http/index.ts";
import { createChannelSchema, updateChannelSchemas } from "./channel-schemas.ts";
import { channelNotFound } from "./channel-store.ts";
import { NotificationService, type NotificationServiceOptions } from "./notification-service.ts";

/** Names of whatever sends through the channel, named by its name or (when given) its id: the automations' notify steps. */
export type ChannelUsers = (channel: { id?: string; name: string }) => Promise<string[]>;

function channelInUse(name: string, users: readonly string[], change: string): VantageError {
  return new VantageError(
    "conflict",
    "channel_in_use",
    `Channel "${name}" is named by the notify steps of ${users.map((user) => `"${user}"`).join(", ")}: ${change} would break their alerts. Point those steps at another channel first.`,
    { details: { automations: users } },
  );
}

/** The channel that `:id` names, in lower case; a malformed id is an unknown one. */
const channelIdOf = (c: Context): string => pathId(c, "id", channelNotFound);

export function createNotificationChannelRoutes(
  options: NotificationServiceOptions | { service: NotificationService },
  usedBy: ChannelUsers = async () => [],
): Hono {
  const service = "service" in options ? options.service : new NotificationService(options);
  const { channels } = service;
  const routes = new Hono();

  routes.post("/", async (c) => c.json(await channels.create(await readJsonBody(c, createChannelSchema)), 201));

  routes.get("/", async (c) => c.json({ channels: await channels.list() }));

  routes.get("/:id", async (c) => c.json(await channels.get(channelIdOf(c))));

  routes.patch("/:id", async (c) => {
    const id = channelIdOf(c);
    // The body's shape depends on the channel's type, which never changes.
    const { type, name } = await channels.get(id);
    const patch = await readJsonBody(c, updateChannelSchemas[type]);
    // Steps that name the channel by name would lose it (by id they follow a rename).
    if (patch.name !== undefined && patch.name !== name) {
      const users = await usedBy({ name });
      if (users.length > 0) throw channelInUse(name, users, `renaming it to "${patch.name}"`);
    }
    return c.json(await channels.update(id, patch));
  });

  routes.delete("/:id", async (c) => {
    const { id, name } = await channels.get(channelIdOf(c));
    const users = await usedBy({ id, name });
    if (users.length > 0) throw channelInUse(name, users, "deleting it");
    await channels.remove(id);
    return c.body(null, 204);
  });

  // 200 whether or not the delivery worked: the request itself succeeded, `ok` says the rest.
  routes.post("/:id/test", async (c) => c.json(await service.test(channelIdOf(c))));

  return routes;
}
