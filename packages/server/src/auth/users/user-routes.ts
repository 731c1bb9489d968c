// /api/v1/users (admins only, by the access policy): list, create (a generated password is
// returned once), read, change role, disable or password, delete.
import { createUserRequestSchema, updateUserRequestSchema, userSchema } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { describeRoute, pathId, readJsonBody, type RouteDoc } from "../../http/index.ts";
import { generatePassword, type Passwords } from "./passwords.ts";
import { userNotFound, type UserStore } from "./user-store.ts";

const userIdOf = (c: Context) => pathId(c, "id", userNotFound);

const createdUserSchema = userSchema.extend({
  password: z.string().optional().describe("The generated password, shown this once; absent when the request chose one."),
});

// Wrapped by describeRoute when the routes are built, not at load (the http ⇄ auth import cycle: see auth-routes.ts).
const docs = {
  list: {
    summary: "List users",
    description: "Every user, by e-mail (admins only).",
    responses: { 200: { description: "The users", schema: z.object({ users: z.array(userSchema) }) } },
    examples: { all: { summary: "Every user" } },
  },
  create: {
    summary: "Create a user",
    description: "Without a `password` the core generates one and answers it, once.",
    body: createUserRequestSchema,
    responses: { 201: { description: "Created", schema: createdUserSchema } },
    errors: { 409: "A user has this e-mail already (`user_email_taken`)." },
    examples: { viewer: { summary: "A viewer with a generated password", body: { email: "ops@example.com", role: "viewer" } } },
  },
  read: {
    summary: "Read a user",
    responses: { 200: { description: "The user", schema: userSchema } },
    examples: { read: { summary: "One user" } },
  },
  update: {
    summary: "Update a user",
    description:
      "Change the role, disable or enable, or set a new password; only the fields given change. Disabling or a new password ends the user's sessions.",
    body: updateUserRequestSchema,
    responses: { 200: { description: "The user as it is now", schema: userSchema } },
    examples: { promote: { summary: "Make an editor", body: { role: "editor" } } },
  },
  remove: {
    summary: "Delete a user",
    description: "Its sessions and API tokens go with it.",
    responses: { 204: { description: "Deleted" } },
    examples: { remove: { summary: "Delete the user" } },
  },
} satisfies Record<string, RouteDoc>;

export function createUserRoutes(users: UserStore, passwords: Passwords): Hono {
  const routes = new Hono();

  routes.get("/", describeRoute(docs.list), async (c) => c.json({ users: await users.list() }));

  routes.post("/", describeRoute(docs.create), async (c) => {
    const { email, role, password } = await readJsonBody(c, createUserRequestSchema);
    const chosen = password ?? generatePassword();
    const user = await users.create({ email, role, passwordHash: await passwords.hash(chosen) });
    // A generated password is shown this once; a chosen one is never echoed.
    return c.json(password === undefined ? { ...user, password: chosen } : user, 201);
  });

  routes.get("/:id", describeRoute(docs.read), async (c) => c.json(await users.get(userIdOf(c))));

  routes.patch("/:id", describeRoute(docs.update), async (c) => {
    const id = userIdOf(c);
    const { role, disabled, password } = await readJsonBody(c, updateUserRequestSchema);
    return c.json(await users.update(id, { role, disabled, passwordHash: password === undefined ? undefined : await passwords.hash(password) }));
  });

  routes.delete("/:id", describeRoute(docs.remove), async (c) => {
    await users.remove(userIdOf(c));
    return c.body(null, 204);
  });

  return routes;
}
