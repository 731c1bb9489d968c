// The automations store: webhook secrets sealed at rest, opened only for execution, legacy ones sealed once; every saved version kept.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webhookAction } from "../../../src/automations/execution/actions/webhook-action.ts";
import { AutomationStore } from "../../../src/automations/definitions/automation-store.ts";
import type { CompiledAction, CompiledAutomation } from "../../../src/automations/definitions/compile-automation.ts";
import { openSecrets } from "../../../src/automations/definitions/webhook-secrets.ts";
import { signWebhook } from "../../../src/crypto/index.ts";
import { createSecretBox } from "../../../src/crypto/secret-box.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { type HttpReceiver, startHttpReceiver } from "../../support/network/receivers.ts";
import { createTestDatabase } from "../../support/database.ts";
import { contextOf, satelliteCompiler } from "../../support/automations/satellite-compiler.ts";

const SECRET = "whsec-at-rest-0123";
const NESTED = "whsec-nested-4567";
const options = satelliteCompiler();
const box = createSecretBox(randomBytes(32));

let pool: pg.Pool;
let store: AutomationStore;
let receiver: HttpReceiver | undefined;
let named = 0;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "automation-store", max: 4 });
  store = new AutomationStore(pool, box);
});

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

afterAll(async () => {
  await pool?.end();
});

function compiled(actions: unknown[], name = `store-${++named}`): CompiledAutomation {
  const result = options.compiler.compile({ name, triggers: [{ event: "satellite.heartbeat_lost" }], actions });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.compiled;
}

const signedActions = (url: string, secret = SECRET) => [
  { webhook: { url, secret } },
  { parallel: { branches: [[{ webhook: { url: `${url}/b`, secret: NESTED } }]] } },
];

/** The definition as the database holds it: what claimRun reads (`a.definition`). */
const rawDefinition = async (id: string) =>
  (await pool.query<{ definition: unknown }>("SELECT definition FROM automations WHERE id = $1", [id])).rows[0]!.definition;
const rawVersions = async (id: string) =>
  (
    await pool.query<{ version: number; definition: unknown }>(
      "SELECT version, definition FROM automation_versions WHERE automation_id = $1 ORDER BY version",
      [id],
    )
  ).rows;

describe("webhook secrets at rest", () => {
  it("stores them sealed: neither the row nor its version holds a secret in plain text", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));

    const raw = await rawDefinition(view.id);
    const stored = JSON.stringify(raw);
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(NESTED);
    expect(raw).toMatchObject({ actions: [{ webhook: { secret: { sealed: expect.stringMatching(/^v1:/) } } }, {}] });
    const versions = JSON.stringify(await rawVersions(view.id));
    expect(versions).toContain('"sealed"');
    expect(versions).not.toContain(SECRET);
  });

  it("reads them back <redacted>, for the API and the index, and in plain text only through getWithSecrets", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));
    const webhookSecrets = (actions: unknown) =>
      [...JSON.stringify(actions).matchAll(/"secret":("[^"]*"|\{[^}]*\})/g)].map((match) => JSON.parse(match[1]!) as unknown);

    expect(webhookSecrets((await store.get(view.id)).actions)).toEqual(["<redacted>", "<redacted>"]);
    expect(webhookSecrets(view.actions)).toEqual(["<redacted>", "<redacted>"]);
    const indexed = (await store.listEnabledFor(["satellite.heartbeat_lost"])).find((candidate) => candidate.id === view.id)!;
    expect(webhookSecrets(indexed.actions)).toEqual(["<redacted>", "<redacted>"]);
    expect(webhookSecrets((await store.getWithSecrets(view.id)).actions)).toEqual([SECRET, NESTED]);
  });

  it("binds secrets to the stored id when a replace names the automation by its id in upper case", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));
    await store.replace(view.id.toUpperCase(), compiled(signedActions("https://hooks.example.com/in", "whsec-replaced-89"), view.name));

    const webhookSecrets = JSON.stringify((await store.getWithSecrets(view.id)).actions);
    expect(webhookSecrets).toContain("whsec-replaced-89");
  });

  it("seals credential headers (Authorization, X-Api-Key, Cookie …) the same way, and leaves other headers as written", async () => {
    const headers = { Authorization: "Bearer sk-live-1", "X-Api-Key": "key-2", Cookie: "s=3", "X-Team": "ops" };
    const view = await store.create(compiled([{ webhook: { url: "https://hooks.example.com/in", headers } }]));
    const raw = JSON.stringify(await rawDefinition(view.id));
    for (const value of ["sk-live-1", "key-2", "s=3"]) expect(raw).not.toContain(value);
    expect(raw).toContain('"X-Team":"ops"');
    const headersOf = (definition: { actions: unknown[] }) => (definition.actions[0] as { webhook: { headers: Record<string, string> } }).webhook.headers;
    expect(headersOf(await store.get(view.id))).toEqual({ Authorization: "<redacted>", "X-Api-Key": "<redacted>", Cookie: "<redacted>", "X-Team": "ops" });
    expect(headersOf(await store.getWithSecrets(view.id))).toEqual(headers);
    expect(headersOf(openSecrets(await rawDefinition(view.id), box, view.id) as { actions: unknown[] })).toEqual(headers);
  });

  it("signs the webhook with the stored secret once the stored definition is opened for execution", async () => {
    receiver = await startHttpReceiver();
    const view = await store.create(compiled(signedActions(`${receiver.origin}/hook`)));
    const result = options.compiler.compile(openSecrets(await rawDefinition(view.id), box, view.id));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const action = result.compiled.actions[0] as Extract<CompiledAction, { kind: "webhook" }>;

    const evaluation = contextOf();
    const prepared = await webhookAction(action, {
      runId: "run-1",
      path: action.path,
      automation: { id: view.id, name: view.name },
      evaluation,
      logger: silentLogger(),
      now: () => evaluation.now,
      countAttempt: async () => undefined,
      backoff: async () => undefined,
      signal: new AbortController().signal,
    });
    expect(await prepared.execute()).toMatchObject({ status: "succeeded" });

    const request = receiver.requests[0]!;
    expect(request.headers["x-vantage-signature"]).toBe(signWebhook(SECRET, request.body, evaluation.now));
    expect(JSON.stringify(prepared.input)).not.toContain(SECRET);
  });

  it("does not compile a stored definition read without opening it (never signs with a sealed value)", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));
    const result = options.compiler.compile(await rawDefinition(view.id));
    expect(result.ok).toBe(false);
  });

  it("refuses to open a secret under another key, or copied to another automation", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));
    const other = await store.create(compiled([{ log: { message: "other" } }]));
    const raw = await rawDefinition(view.id);

    expect(() => openSecrets(raw, createSecretBox(randomBytes(32)), view.id)).toThrow(expect.objectContaining({ code: "secret_key_mismatch" }));
    expect(() => openSecrets(raw, box, other.id)).toThrow(expect.objectContaining({ code: "secret_undecryptable" }));
  });

  it("keeps a secret stored in plain text before sealing (legacy rows) as it is", async () => {
    const legacy = { name: "legacy", actions: [{ webhook: { url: "https://hooks.example.com/in", secret: SECRET } }] };
    expect(openSecrets(legacy, box, "any")).toEqual(legacy);
  });

  it("seals the secrets of rows stored in plain text, once, in the definition and its versions", async () => {
    const view = await store.create(compiled(signedActions("https://hooks.example.com/in")));
    // As an older core stored it (and migration 0011 copied it into automation_versions).
    const plain = JSON.stringify({
      ...(await store.getWithSecrets(view.id)),
      id: undefined,
      enabled: undefined,
      version: undefined,
      createdAt: undefined,
      updatedAt: undefined,
    });
    await pool.query("UPDATE automations SET definition = $2 WHERE id = $1", [view.id, plain]);
    await pool.query("UPDATE automation_versions SET definition = $2 WHERE automation_id = $1", [view.id, plain]);
    expect(JSON.stringify(await rawDefinition(view.id))).toContain(SECRET);

    expect(await store.sealPlaintextSecrets()).toBe(2);
    expect(JSON.stringify(await rawDefinition(view.id))).not.toContain(SECRET);
    expect(JSON.stringify(await rawVersions(view.id))).not.toContain(SECRET);
    expect(JSON.stringify((await store.getWithSecrets(view.id)).actions)).toContain(SECRET);
    expect(await store.sealPlaintextSecrets()).toBe(0);
  });
});

describe("definition versions", () => {
  it("keeps every saved version, written with the definition, and not on enable or disable", async () => {
    const view = await store.create(compiled([{ log: { message: "first" } }]));
    await store.replace(view.id, compiled([{ log: { message: "second" } }], view.name));
    await store.setEnabled(view.id, false);

    const versions = await rawVersions(view.id);
    expect(versions.map((row) => row.version)).toEqual([1, 2]);
    expect(versions.map((row) => (row.definition as { actions: Array<{ log: { message: string } }> }).actions[0]!.log.message)).toEqual(["first", "second"]);
    // The version row is the definition as stored, so it needs the same key to open.
    expect(versions[1]!.definition).toEqual(await rawDefinition(view.id));
  });

  it("replaces only the version a client read: of two edits of version 1 the second is refused, writing nothing", async () => {
    const view = await store.create(compiled([{ log: { message: "v1" } }]));
    const results = await Promise.allSettled([1, 2].map((edit) => store.replace(view.id, compiled([{ log: { message: `edit ${edit}` } }], view.name), 1)));
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(results.find((result) => result.status === "rejected")).toMatchObject({ reason: { kind: "conflict", code: "automation_changed" } });
    expect((await rawVersions(view.id)).map((row) => row.version)).toEqual([1, 2]);
    await expect(store.replace("00000000-0000-4000-8000-000000000000", compiled([{ log: { message: "x" } }]), 1)).rejects.toMatchObject({
      code: "automation_not_found",
    });
  });

  it("writes no version when the write fails, and drops them with the automation", async () => {
    const view = await store.create(compiled([{ log: { message: "one" } }]));
    await expect(store.create(compiled([{ log: { message: "dup" } }], view.name))).rejects.toMatchObject({ code: "automation_name_taken" });
    expect(
      Number(
        (
          await pool.query<{ n: string }>("SELECT count(*) AS n FROM automation_versions v JOIN automations a ON a.id = v.automation_id WHERE a.name = $1", [
            view.name,
          ])
        ).rows[0]!.n,
      ),
    ).toBe(1);

    await store.remove(view.id);
    expect(await rawVersions(view.id)).toEqual([]);
  });
});
