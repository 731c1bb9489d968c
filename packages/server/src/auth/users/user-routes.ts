// /api/v1/users (admins only, by the access policy): list, create (a generated password is
// returned once), read, change role, disable or password, delete.
import { createUserRequestSchema, updateUserRequestSchema } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { pathId, readJsonBody } from "../../http/index.ts";
import { generatePassword, type Passwords } from "./passwords.ts";
import { userNotFound, type UserStore } from "./user-store.ts";

const userIdOf = (c: Context) => pathId(c, "id", userNotFound);

export function createUserRoutes(users: UserStore, passwords: Passwords): Hono {
  const routes = new Hono();

  routes.get("/", async (c) => c.json({ users: await users.list() }));

  routes.post("/", async (c) => {
    const { email, role, password } = await readJsonBody(c, createUserRequestSchema);
    const chosen = password ?? generatePassword();
    const user = await users.create({ email, role, passwordHash: await passwords.hash(chosen) });
    // A generated password is shown this once; a chosen one is never echoed.
    return c.json(password === undefined ? { ...user, password: chosen } : user, 201);
  });

  routes.get("/:id", async (c) => c.json(await users.get(userIdOf(c))));

  routes.patch("/:id", async (c) => {
    const id = userIdOf(c);
    const { role, disabled, password } = await readJsonBody(c, updateUserRequestSchema);
    return c.json(await users.update(id, { role, disabled, passwordHash: password === undefined ? undefined : await passwords.hash(password) }));
  });

  routes.delete("/:id", async (c) => {
    await users.remove(userIdOf(c));
    return c.body(null, 204);
  });

  return routes;
}
