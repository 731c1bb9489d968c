// The notification channels' HTTP routes, mounted at /api/v1/notification-channels behind the
// admin guard: create, list, read, update (secrets kept unless given), delete, and test.
import { Hono } from "hono";
import { readJsonBody } from "../http/request-body.ts";
import { createChannelSchema, updateChannelSchemas } from "./channel-schemas.ts";
import { NotificationService, type NotificationServiceOptions } from "./notification-service.ts";

export function createNotificationChannelRoutes(options: NotificationServiceOptions | { service: NotificationService }): Hono {
  const service = "service" in options ? options.service : new NotificationService(options);
  const { channels } = service;
  const routes = new Hono();

  routes.post("/", async (c) => c.json(await channels.create(await readJsonBody(c, createChannelSchema)), 201));

  routes.get("/", async (c) => c.json({ channels: await channels.list() }));

  routes.get("/:id", async (c) => c.json(await channels.get(c.req.param("id"))));

  routes.patch("/:id", async (c) => {
    const id = c.req.param("id");
    // The body's shape depends on the channel's type, which never changes.
    const { type } = await channels.get(id);
    return c.json(await channels.update(id, await readJsonBody(c, updateChannelSchemas[type])));
  });

  routes.delete("/:id", async (c) => {
    await channels.remove(c.req.param("id"));
    return c.body(null, 204);
  });

  // 200 whether or not the delivery worked: the request itself succeeded, `ok` says the rest.
  routes.post("/:id/test", async (c) => c.json(await service.test(c.req.param("id"))));

  return routes;
}
