// The notification channels' HTTP routes, mounted at /api/v1/notification-channels behind the
// admin guard: create, list, read, update (secrets kept unless given), delete, and test.
import { type Context, Hono } from "hono";
import { addHistoryRoute, requestWriteContext as who } from "../audit/index.ts";
import { VantageError } from "../errors.ts";
import { z } from "zod";
import { describeRoute, pathId, readJsonBody } from "../http/index.ts";
import { channelViewSchema, createChannelSchema, testDeliveryResultSchema, updateChannelSchemas } from "./channel-schemas.ts";
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

const IN_USE = "Automations' notify steps name the channel (`channel_in_use`; `details.automations` names them).";
const updateChannelSchema = z.union(Object.values(updateChannelSchemas));

const docs = {
  create: describeRoute({
    summary: "Create a notification channel",
    description: "A webhook, Slack, Discord or email (SMTP) channel; its secret fields are stored encrypted and never shown again.",
    body: createChannelSchema,
    responses: { 201: { description: "Created", schema: channelViewSchema } },
    errors: { 409: "The name is taken (`channel_name_taken`)." },
    examples: {
      webhook: {
        summary: "A signed webhook",
        body: { name: "ops-webhook", type: "webhook", config: { url: "https://hooks.example.com/vantage", secret: "a-long-shared-secret" } },
      },
    },
  }),
  list: describeRoute({
    summary: "List notification channels",
    responses: { 200: { description: "Every channel", schema: z.object({ channels: z.array(channelViewSchema) }) } },
    examples: { all: { summary: "Every channel" } },
  }),
  read: describeRoute({
    summary: "Read a notification channel",
    responses: { 200: { description: "The channel", schema: channelViewSchema } },
    examples: { read: { summary: "One channel" } },
  }),
  update: describeRoute({
    summary: "Update a notification channel",
    description: "The fields of the channel's own type; a secret left out is kept, an optional field set to null is cleared. The type never changes.",
    body: updateChannelSchema,
    responses: { 200: { description: "The channel as it is now", schema: channelViewSchema } },
    errors: { 409: `The name is taken (\`channel_name_taken\`), or a rename would break notify steps that name it: ${IN_USE}` },
    examples: { rename: { summary: "A new URL", body: { config: { url: "https://hooks.example.com/vantage/v2" } } } },
  }),
  remove: describeRoute({
    summary: "Delete a notification channel",
    responses: { 204: { description: "Deleted" } },
    errors: { 409: IN_USE },
    examples: { remove: { summary: "Delete it" } },
  }),
  test: describeRoute({
    summary: "Send a test notification",
    description: "200 whether or not the delivery worked: `ok` says whether it did.",
    responses: { 200: { description: "What the delivery found", schema: testDeliveryResultSchema } },
    examples: { test: { summary: "Try the channel" } },
  }),
};

export function createNotificationChannelRoutes(
  options: NotificationServiceOptions | { service: NotificationService },
  usedBy: ChannelUsers = async () => [],
): Hono {
  const service = "service" in options ? options.service : new NotificationService(options);
  const { channels } = service;
  const routes = new Hono();

  routes.post("/", docs.create, async (c) => c.json(await channels.create(await readJsonBody(c, createChannelSchema), undefined, who(c)), 201));

  routes.get("/", docs.list, async (c) => c.json({ channels: await channels.list() }));

  routes.get("/:id", docs.read, async (c) => c.json(await channels.get(channelIdOf(c))));

  routes.patch("/:id", docs.update, async (c) => {
    const id = channelIdOf(c);
    // The body's shape depends on the channel's type, which never changes.
    const { type, name } = await channels.get(id);
    const patch = await readJsonBody(c, updateChannelSchemas[type]);
    // Steps that name the channel by name would lose it (by id they follow a rename).
    if (patch.name !== undefined && patch.name !== name) {
      const users = await usedBy({ name });
      if (users.length > 0) throw channelInUse(name, users, `renaming it to "${patch.name}"`);
    }
    return c.json(await channels.update(id, patch, undefined, who(c)));
  });

  routes.delete("/:id", docs.remove, async (c) => {
    const { id, name } = await channels.get(channelIdOf(c));
    const users = await usedBy({ id, name });
    if (users.length > 0) throw channelInUse(name, users, "deleting it");
    await channels.remove(id, undefined, who(c));
    return c.body(null, 204);
  });

  const assertExists = (id: string) => channels.get(id);
  addHistoryRoute(routes, { pool: channels.pool, kind: "notification-channel", noun: "notification channel", notFound: channelNotFound, assertExists });

  // 200 whether or not the delivery worked: the request itself succeeded, `ok` says the rest.
  routes.post("/:id/test", docs.test, async (c) => c.json(await service.test(channelIdOf(c))));

  return routes;
}
