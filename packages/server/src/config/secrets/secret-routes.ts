// /api/v1/config/secrets: the values bundles name as `${secret:NAME}` — set (PUT, create or
// replace), list and delete. A value goes in and never comes out: answers carry names only.
import { actorSchema, secretNameSchema, setSecretSchema, validateInput } from "@vantage/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requestActor } from "../../auth/index.ts";
import { invalidInput } from "../../errors.ts";
import { describeRoute, readJsonBody } from "../../http/index.ts";
import type { ConfigSecretStore, ConfigSecretView } from "./config-secret-store.ts";

const secretViewSchema = z.object({
  name: z.string(),
  updatedBy: actorSchema.describe("Who set its current value."),
  createdAt: z.string(),
  updatedAt: z.string(),
});

// Compile-time only: the schema describes what the store answers.
const _answer: z.infer<typeof secretViewSchema> = {} as ConfigSecretView;
void _answer;

const EXAMPLE = { name: "EXAMPLE_WEBHOOK_SECRET" };

const docs = {
  list: describeRoute({
    summary: "List config secrets",
    description: "The names of the stored secrets that bundles reference as `${secret:NAME}`; values are never answered.",
    responses: { 200: { description: "The secrets, by name", schema: z.object({ secrets: z.array(secretViewSchema) }) } },
    examples: { all: { summary: "Every secret's name" } },
  }),
  set: describeRoute({
    summary: "Set a config secret",
    description:
      "Stores the value sealed at rest (replacing any before). Plans and exports show every stored value as its `${secret:NAME}`; applies resolve references to it.",
    params: z.object({ name: secretNameSchema }),
    body: setSecretSchema,
    responses: { 200: { description: "Replaced", schema: secretViewSchema }, 201: { description: "Created", schema: secretViewSchema } },
    examples: { set: { summary: "A webhook's signing secret", params: EXAMPLE, body: { value: "example-signing-secret" } } },
  }),
  remove: describeRoute({
    summary: "Delete a config secret",
    description: "Resources applied with it keep their values; the next plan of a bundle still referencing it fails until it is set again.",
    params: z.object({ name: secretNameSchema }),
    responses: { 204: { description: "Deleted" } },
    errors: { 404: "No secret has that name (`config_secret_not_found`)." },
    examples: { remove: { summary: "Delete it", params: EXAMPLE } },
  }),
};

function nameOf(c: Context): string {
  const parsed = validateInput(secretNameSchema, c.req.param("name"), { root: "the secret's name" });
  if (!parsed.ok) throw invalidInput(parsed.issues);
  return parsed.value;
}

export function createSecretRoutes(store: ConfigSecretStore): Hono {
  const routes = new Hono();

  routes.get("/", docs.list, async (c) => c.json({ secrets: await store.list() }));

  routes.put("/:name", docs.set, async (c) => {
    const name = nameOf(c);
    const { value } = await readJsonBody(c, setSecretSchema);
    const { created, ...view } = await store.set(name, value, requestActor(c));
    return c.json(view, created ? 201 : 200);
  });

  routes.delete("/:name", docs.remove, async (c) => {
    const name = nameOf(c);
    await store.remove(name);
    return c.body(null, 204);
  });

  return routes;
}
