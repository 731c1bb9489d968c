// Notification channels over the API: secrets encrypted at rest, updates and deletes, delivery to loopback receivers of each type, failures.
import type { Hono } from "hono";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import packageJson from "../../package.json" with { type: "json" };
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSecretBox } from "../../src/crypto/secret-box.ts";
import { isVantageError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { createNotificationChannelRoutes, createNotificationSenders, NotificationService } from "../../src/notifications/index.ts";
import type { ChannelView } from "../../src/notifications/channel-store.ts";
import type { TestDeliveryResult } from "../../src/notifications/notification-service.ts";
import { createPool } from "../../src/storage/index.ts";
import { findFreePort } from "../../src/storage/postgres/embedded-postgres.ts";
import { type Answer, callApi, createApiApp } from "../support/api/api-app.ts";
import { createTestDatabase } from "../support/database.ts";
import { type HttpReceiver, type SmtpReceiver, startHttpReceiver, startSmtpReceiver } from "../support/network/receivers.ts";

const CLOCK = Date.parse("2026-03-01T09:30:00.000Z");
const SMTP_LOGIN = { username: "alerts", password: "smtp-password-5ecret" };
// Every secret the tests store: none may ever appear in an API answer or in the row's plaintext.
const SECRETS = {
  signing: "webhook-signing-5ecret",
  header: "Bearer receiver-token-5ecret",
  slackToken: "slack-token-5ecret",
  discordToken: "discord-token-5ecret",
  smtpPassword: SMTP_LOGIN.password,
};

const logger = silentLogger();
let pool: pg.Pool;
let service: NotificationService;
let receiver: HttpReceiver;
// A second origin: where redirects point.
let elsewhere: HttpReceiver;
let smtp: SmtpReceiver;
let refusedOrigin: string;

function appWith(routes: ReturnType<typeof createNotificationChannelRoutes>): Promise<Hono> {
  return createApiApp(pool, { "/notification-channels": routes });
}
let app: Hono;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, logger, { applicationName: "notification-channels", max: 5 });
  service = new NotificationService({
    pool,
    box: createSecretBox(randomBytes(32)),
    senders: createNotificationSenders({ timeoutMs: 5_000, now: () => CLOCK }),
  });
  app = await appWith(createNotificationChannelRoutes({ service }));
  receiver = await startHttpReceiver();
  elsewhere = await startHttpReceiver();
  smtp = await startSmtpReceiver(SMTP_LOGIN);
  refusedOrigin = `http://127.0.0.1:${await findFreePort()}`;
});

afterAll(async () => {
  await receiver?.close();
  await elsewhere?.close();
  await smtp?.close();
  await pool?.end();
});

beforeEach(() => {
  receiver.requests.length = 0;
  receiver.answer({ status: 200, body: "ok" });
});

const call = <Body = Record<string, unknown>>(method: string, path: string, body?: unknown, on = app) =>
  callApi<Body>(on, method, `/api/v1/notification-channels${path}`, body);

const issuePaths = (answer: Answer) => (answer.body.error as { details: { issues: Array<{ path: string }> } }).details.issues.map((issue) => issue.path).sort();

let created = 0;
const uniqueName = (prefix: string) => `${prefix}-${++created}`;

const webhookConfig = (path = "/hook") => ({ url: `${receiver.origin}${path}`, headers: { authorization: SECRETS.header }, secret: SECRETS.signing });
const slackConfig = () => ({ webhookUrl: `${receiver.origin}/services/T000/B000/${SECRETS.slackToken}` });
const discordConfig = () => ({ webhookUrl: `${receiver.origin}/api/webhooks/123/${SECRETS.discordToken}` });
const emailConfig = () => ({
  host: "127.0.0.1",
  port: smtp.port,
  secure: false,
  username: SMTP_LOGIN.username,
  password: SECRETS.smtpPassword,
  from: "Vantage <vantage@example.test>",
  to: ["ops@example.test", "oncall@example.test"],
});

async function createChannel(type: string, config: Record<string, unknown>, name = uniqueName(type)): Promise<ChannelView> {
  const answer = await call<ChannelView>("POST", "", { name, type, config });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

async function testDelivery(id: string, on = app): Promise<TestDeliveryResult> {
  const answer = await call<TestDeliveryResult>("POST", `/${id}/test`, undefined, on);
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

function expectNoSecret(text: string) {
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
}

describe("creating and reading channels", () => {
  it("creates a channel of each type and shows secret fields only by name in secretsSet", async () => {
    const webhook = await createChannel("webhook", webhookConfig(), "  ops webhook ");
    const slack = await createChannel("slack", slackConfig());
    const discord = await createChannel("discord", discordConfig());
    const email = await createChannel("email", emailConfig());

    expect(webhook).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "ops webhook",
      type: "webhook",
      config: { url: `${receiver.origin}/hook` },
      secretsSet: ["headers", "secret"],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(slack).toMatchObject({ type: "slack", config: {}, secretsSet: ["webhookUrl"] });
    expect(discord).toMatchObject({ type: "discord", config: {}, secretsSet: ["webhookUrl"] });
    const { password: _password, ...emailShown } = emailConfig();
    expect(email).toMatchObject({ type: "email", config: emailShown, secretsSet: ["password"] });

    const list = await call<{ channels: ChannelView[] }>("GET", "");
    expect(list.body.channels).toEqual(expect.arrayContaining([webhook, slack, discord, email]));
    const reads = await Promise.all([webhook, slack, discord, email].map((channel) => call("GET", `/${channel.id}`)));
    expect(reads.map((read) => read.body)).toEqual([webhook, slack, discord, email]);
    for (const text of [list.text, ...reads.map((read) => read.text)]) expectNoSecret(text);
  });

  it("stores secret fields encrypted: the row holds ciphertext, never the plaintext", async () => {
    const channels = [
      await createChannel("webhook", webhookConfig()),
      await createChannel("slack", slackConfig()),
      await createChannel("discord", discordConfig()),
      await createChannel("email", emailConfig()),
    ];
    const { rows } = await pool.query<{ config: Record<string, unknown>; secrets: string }>(
      "SELECT config, secrets FROM notification_channels WHERE id = ANY($1)",
      [channels.map((channel) => channel.id)],
    );
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.secrets).toMatch(/^v1:[0-9a-f]{8}:/);
      expectNoSecret(JSON.stringify(row));
      expect(Object.keys(row.config)).not.toContain("webhookUrl");
      expect(Object.keys(row.config)).not.toContain("password");
    }
  });

  it("lists every invalid field by its path", async () => {
    const webhook = await call("POST", "", {
      name: "",
      type: "webhook",
      config: { url: "ftp://example.test/x", headers: { "bad header": "x", ok: "line\nbreak" }, secret: "short", colour: "red" },
    });
    expect(webhook.status).toBe(400);
    expect(webhook.body).toMatchObject({ error: { code: "invalid_input" } });
    expect(issuePaths(webhook)).toEqual(["config.colour", "config.headers.bad header", "config.headers.ok", "config.secret", "config.url", "name"]);

    const email = await call("POST", "", {
      name: "mail",
      type: "email",
      config: { host: "", port: 0, secure: "yes", to: ["ops@example.test", "not-an-email"] },
    });
    expect(issuePaths(email)).toEqual(["config.from", "config.host", "config.port", "config.secure", "config.to.1"]);

    const reserved = await call("POST", "", {
      name: "forged",
      type: "webhook",
      config: { url: "https://example.test", headers: { "X-Vantage-Signature": "t=1,v1=00" } },
    });
    expect(issuePaths(reserved)).toEqual(["config.headers"]);

    const chat = await call("POST", "", { name: "chat", type: "slack", config: {} });
    expect(issuePaths(chat)).toEqual(["config.webhookUrl"]);

    // A URL without its scheme is shown with one, as an example.
    const bare = await call("POST", "", { name: "bare", type: "webhook", config: { url: "hooks.example.test/vantage" } });
    expect(bare.body).toMatchObject({
      error: { details: { issues: [{ path: "config.url", message: "url must be an http:// or https:// URL (e.g. https://hooks.example.test/vantage)" }] } },
    });
  });

  it("refuses an unknown type, naming the type field", async () => {
    const answer = await call("POST", "", { name: "pager", type: "pagerduty", config: {} });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { details: { issues: [{ path: "type", message: "type must be one of webhook, slack, discord, email" }] } } });
  });

  it("refuses a second channel with the same name with 409", async () => {
    await createChannel("slack", slackConfig(), "twin");
    const answer = await call("POST", "", { name: "twin", type: "discord", config: discordConfig() });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: "notification_channel_name_taken" } });
  });
});

describe("updating and deleting channels", () => {
  it("keeps the secrets a PATCH omits, replaces those it gives, and clears those set to null", async () => {
    const channel = await createChannel("webhook", webhookConfig("/before"));

    const moved = await call<ChannelView>("PATCH", `/${channel.id}`, { config: { url: `${receiver.origin}/after` } });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ config: { url: `${receiver.origin}/after` }, secretsSet: ["headers", "secret"] });
    expect(await testDelivery(channel.id)).toMatchObject({ ok: true });
    expect(receiver.requests[0]).toMatchObject({ path: "/after", headers: { authorization: SECRETS.header, "x-vantage-signature": expect.any(String) } });

    const cleared = await call<ChannelView>("PATCH", `/${channel.id}`, { name: "renamed hook", config: { secret: null, headers: { "x-team": "ops" } } });
    expect(cleared.body).toMatchObject({ name: "renamed hook", secretsSet: ["headers"] });
    expectNoSecret(cleared.text);
    expect(await testDelivery(channel.id)).toMatchObject({ ok: true });
    expect(receiver.requests[1]!.headers).toMatchObject({ "x-team": "ops" });
    expect(receiver.requests[1]!.headers).not.toHaveProperty("authorization");
    expect(receiver.requests[1]!.headers).not.toHaveProperty("x-vantage-signature");
  });

  it("keeps a history of each write's fields, secrets by name only, and only those whose value changed", async () => {
    const channel = await createChannel("webhook", webhookConfig("/before"));
    // The same secret sent again changes nothing: the trail compares values opened, not as sealed.
    expect((await call("PATCH", `/${channel.id}`, { config: { url: `${receiver.origin}/after`, secret: SECRETS.signing } })).status).toBe(200);
    expect((await call("PATCH", `/${channel.id}`, { name: uniqueName("renamed"), config: { secret: "another-5ecret" } })).status).toBe(200);
    expect((await call("DELETE", `/${channel.id}`)).status).toBe(204);
    const history = await call<{ changes: Array<Record<string, unknown>> }>("GET", `/${channel.id}/history`);
    expect(history.status, history.text).toBe(200);
    expectNoSecret(history.text);
    expect(history.text).not.toContain("another-5ecret");
    expect(history.body.changes).toMatchObject([
      { action: "delete", changedFields: [], revision: null },
      { action: "update", changedFields: ["config.secret", "name"] },
      { action: "update", changedFields: ["config.url"] },
      { action: "create", changedFields: ["config.headers", "config.secret", "config.url", "name", "type"] },
    ]);
    for (const change of history.body.changes) expect(change).toMatchObject({ actor: { type: "token" }, cause: { type: "api-request" } });
    expect((await call("GET", `/${randomUUID()}/history`)).body).toMatchObject({ error: { code: "notification_channel_not_found" } });
  });

  it("validates a PATCH against the channel's own type", async () => {
    const slack = await createChannel("slack", slackConfig());
    const wrongField = await call("PATCH", `/${slack.id}`, { type: "email", config: { url: "https://example.test" } });
    expect(wrongField.status).toBe(400);
    expect(issuePaths(wrongField)).toEqual(["config.url", "type"]);
    const required = await call("PATCH", `/${slack.id}`, { config: { webhookUrl: null } });
    expect(issuePaths(required)).toEqual(["config.webhookUrl"]);
    expect((await call("GET", `/${slack.id}`)).body).toEqual(slack);
  });

  it("refuses a rename to a taken name with 409", async () => {
    const first = await createChannel("discord", discordConfig());
    const second = await createChannel("discord", discordConfig());
    const answer = await call("PATCH", `/${second.id}`, { name: first.name });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: "notification_channel_name_taken" } });
  });

  it("deletes a channel, after which it is gone", async () => {
    const channel = await createChannel("slack", slackConfig());
    const answer = await call("DELETE", `/${channel.id}`);
    expect(answer.status).toBe(204);
    expect(answer.text).toBe("");
    expect((await call("GET", `/${channel.id}`)).status).toBe(404);
    expect((await call("DELETE", `/${channel.id}`)).status).toBe(404);
  });

  it.each([randomUUID(), "not-a-uuid"])("answers 404 for the unknown id %s on every route", async (id) => {
    const answers = [
      await call("GET", `/${id}`),
      await call("PATCH", `/${id}`, { name: "x" }),
      await call("DELETE", `/${id}`),
      await call("POST", `/${id}/test`),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "notification_channel_not_found" } });
    }
  });
});

describe("delivering to each channel type", () => {
  it("delivers a webhook as signed JSON with its headers, exactly once", async () => {
    const channel = await createChannel("webhook", webhookConfig("/signed"));

    const result = await testDelivery(channel.id);

    expect(result).toEqual({ ok: true, status: 200 });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: "POST", path: "/signed", headers: { "content-type": "application/json", authorization: SECRETS.header } });
    expect(JSON.parse(request!.body)).toEqual({
      title: "Vantage test notification",
      message: expect.stringContaining(channel.name),
      severity: "info",
      payload: { test: true, channelId: channel.id, channelName: channel.name },
      sentAt: new Date(CLOCK).toISOString(),
    });
    const timestamp = Math.floor(CLOCK / 1000);
    const expected = createHmac("sha256", SECRETS.signing).update(`${timestamp}.${request!.body}`).digest("hex");
    expect(request!.headers["x-vantage-signature"]).toBe(`t=${timestamp},v1=${expected}`);
  });

  it("sends no signature when the webhook has no secret", async () => {
    const channel = await createChannel("webhook", { url: `${receiver.origin}/plain` });
    expect(await testDelivery(channel.id)).toMatchObject({ ok: true });
    expect(receiver.requests[0]!.headers).not.toHaveProperty("x-vantage-signature");
  });

  it("delivers to Slack as { text } on the incoming-webhook URL", async () => {
    const channel = await createChannel("slack", slackConfig());
    expect(await testDelivery(channel.id)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({ path: `/services/T000/B000/${SECRETS.slackToken}` });
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({ text: expect.stringMatching(/^\*\[INFO\] Vantage test notification\*\nThis is a test/) });
  });

  it("delivers to Discord as { content, allowed_mentions } on the webhook URL", async () => {
    const channel = await createChannel("discord", discordConfig());
    expect(await testDelivery(channel.id)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({ path: `/api/webhooks/123/${SECRETS.discordToken}` });
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      content: expect.stringMatching(/^\*\*\[INFO\] Vantage test notification\*\*\nThis is a test/),
      allowed_mentions: { parse: [] },
    });
  });

  it("delivers email over SMTP, logged in, to every recipient", async () => {
    const channel = await createChannel("email", emailConfig());
    const before = smtp.messages.length;

    expect(await testDelivery(channel.id)).toEqual({ ok: true, status: 250 });

    expect(smtp.messages).toHaveLength(before + 1);
    const mail = smtp.messages.at(-1)!;
    expect(mail).toMatchObject({ from: "vantage@example.test", to: ["ops@example.test", "oncall@example.test"], user: SMTP_LOGIN.username });
    expect(mail.raw).toMatch(/^Subject: \[INFO\] Vantage test notification\r$/m);
    expect(mail.raw.replace(/=\r\n/g, "")).toContain(`This is a test of the notification channel "${channel.name}"`);
  });

  it("identifies itself as Vantage/<version of the core> to every HTTP receiver", async () => {
    for (const [type, config] of [
      ["webhook", webhookConfig()],
      ["slack", slackConfig()],
      ["discord", discordConfig()],
    ] as const) {
      expect(await testDelivery((await createChannel(type, config)).id)).toMatchObject({ ok: true });
    }
    expect(receiver.requests.map((request) => request.headers["user-agent"])).toEqual(Array(3).fill(`Vantage/${packageJson.version}`));
  });

  it("sends a fresh Idempotency-Key with every test delivery of a webhook channel", async () => {
    const channel = await createChannel("webhook", { url: `${receiver.origin}/keyed` });
    await testDelivery(channel.id);
    await testDelivery(channel.id);
    const keys = receiver.requests.map((request) => request.headers["idempotency-key"]);
    expect(keys).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("refuses Idempotency-Key among a webhook channel's headers: Vantage sets it", async () => {
    const answer = await call("POST", "", {
      name: "forged-key",
      type: "webhook",
      config: { url: "https://example.test", headers: { "Idempotency-Key": "x" } },
    });
    expect(issuePaths(answer)).toEqual(["config.headers"]);
  });

  it("accepts a mentions opt-in on Slack and Discord channels and shows it", async () => {
    const slack = await createChannel("slack", { ...slackConfig(), mentions: true });
    const discord = await createChannel("discord", { ...discordConfig(), mentions: false });
    expect([slack.config, discord.config]).toEqual([{ mentions: true }, { mentions: false }]);
    const wrong = await call("POST", "", { name: "mentions-on-email", type: "email", config: { ...emailConfig(), mentions: true } });
    expect(issuePaths(wrong)).toEqual(["config.mentions"]);
  });

  it("keeps a channel's secrets readable after an update that names it by its id in upper case", async () => {
    const channel = await createChannel("webhook", { url: `${receiver.origin}/notify` });
    await service.channels.update(channel.id.toUpperCase(), { config: { url: `${receiver.origin}/moved` } });
    expect(await service.send(channel.id, { title: "t", message: "m" })).toEqual({ status: 200 });
    expect(receiver.requests.map((request) => request.path)).toEqual(["/moved"]);
  });

  it("sends through NotificationService.send, the automation notify action's entry point", async () => {
    const channel = await createChannel("webhook", { url: `${receiver.origin}/notify` });
    const receipt = await service.send(channel.id, {
      title: "eu-west down",
      message: "3 satellites lost",
      severity: "critical",
      payload: { region: "eu-west" },
    });
    expect(receipt).toEqual({ status: 200 });
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({
      title: "eu-west down",
      message: "3 satellites lost",
      severity: "critical",
      payload: { region: "eu-west" },
    });
  });
});

describe("reporting failed deliveries", () => {
  it("reports a receiver answering 500 as ok: false with its status and answer, worth retrying", async () => {
    const channel = await createChannel("webhook", { url: `${receiver.origin}/broken` });
    receiver.answer({ status: 500, body: "database on fire" });
    expect(await testDelivery(channel.id)).toEqual({
      ok: false,
      status: 500,
      retryable: true,
      error: `${receiver.origin} answered 500 Internal Server Error: database on fire.`,
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it("reports a receiver refusing with 4xx as not worth retrying", async () => {
    const channel = await createChannel("slack", slackConfig());
    receiver.answer({ status: 403, body: "invalid_token" });
    const result = await testDelivery(channel.id);
    expect(result).toMatchObject({ ok: false, status: 403, retryable: false, error: expect.stringContaining("403 Forbidden: invalid_token") });
    expectNoSecret(JSON.stringify(result));
  });

  it("does not follow a redirect: it fails, naming only the origin it pointed to, and sends nothing there", async () => {
    const channel = await createChannel("slack", slackConfig());
    receiver.answer({ status: 301, headers: { location: `${elsewhere.origin}/services/T000/B000/${SECRETS.slackToken}` } });
    const result = await testDelivery(channel.id);
    expect(result).toMatchObject({ ok: false, status: 301, retryable: false, error: expect.stringContaining(`pointing to ${elsewhere.origin}/…`) });
    expectNoSecret(JSON.stringify(result));
    expect(receiver.requests).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it("reports a refused connection, naming only the receiver's origin", async () => {
    const channel = await createChannel("discord", { webhookUrl: `${refusedOrigin}/api/webhooks/1/${SECRETS.discordToken}` });
    const result = await testDelivery(channel.id);
    expect(result).toEqual({ ok: false, retryable: true, error: expect.stringMatching(/^Could not reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/) });
    expectNoSecret(JSON.stringify(result));
  });

  const impatient = () => new NotificationService({ pool, box: createSecretBox(randomBytes(32)), senders: createNotificationSenders({ timeoutMs: 200 }) });
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );

  it("reports a receiver that does not answer within the timeout", async () => {
    const service = impatient();
    const channel = await service.channels.create({ name: uniqueName("slow"), type: "webhook", config: { url: `${receiver.origin}/slow` } });
    receiver.answer("hang");
    const error = await failureOf(service.send(channel.id, { title: "t", message: "m" }));
    expect(isVantageError(error, "transient")).toBe(true);
    expect(error).toMatchObject({ code: "notification_undeliverable", message: `${receiver.origin} did not answer within 200 ms.` });
  });

  it("reports an SMTP server that never greets within the timeout", async () => {
    const service = impatient();
    // The HTTP receiver accepts the connection and, waiting for a request, never says a word.
    const port = Number(new URL(receiver.origin).port);
    const channel = await service.channels.create({ name: uniqueName("silent-smtp"), type: "email", config: { ...emailConfig(), port } });
    const started = Date.now();
    const error = await failureOf(service.send(channel.id, { title: "t", message: "m" }));
    expect(isVantageError(error, "transient")).toBe(true);
    expect(error).toMatchObject({ code: "notification_undeliverable", message: expect.stringMatching(/^The SMTP server 127\.0\.0\.1:\d+ /) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports an SMTP login refused as not worth retrying", async () => {
    const channel = await createChannel("email", { ...emailConfig(), password: "wrong-password" });
    const result = await testDelivery(channel.id);
    expect(result).toMatchObject({
      ok: false,
      status: 535,
      retryable: false,
      error: expect.stringMatching(/^The SMTP server 127\.0\.0\.1:\d+ answered 535: .*Invalid username or password/),
    });
  });
});

describe("a process with another secret key", () => {
  it("still lists channels but refuses to send, saying which key to use, until the secrets are entered again", async () => {
    const channel = await createChannel("slack", slackConfig());
    const otherBox = createSecretBox(randomBytes(32));
    const other = new NotificationService({ pool, box: otherBox, senders: createNotificationSenders() });
    const otherApp = await appWith(createNotificationChannelRoutes({ service: other }));

    expect((await call("GET", `/${channel.id}`, undefined, otherApp)).body).toEqual(channel);
    const refused = await call("POST", `/${channel.id}/test`, undefined, otherApp);
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({
      error: {
        code: "secret_key_mismatch",
        message: expect.stringMatching(/this process has key [0-9a-f]{8}\. Start every core process with the key that encrypted it \(VANTAGE_SECRET_KEY/),
      },
    });
    await expect(other.send(channel.id, { title: "t", message: "m" })).rejects.toMatchObject({ code: "secret_key_mismatch" });
    expect(receiver.requests).toHaveLength(0);

    // Entering every secret again needs no old key.
    const repaired = await call("PATCH", `/${channel.id}`, { config: slackConfig() }, otherApp);
    expect(repaired.status, repaired.text).toBe(200);
    expect(await testDelivery(channel.id, otherApp)).toMatchObject({ ok: true });
  });
});
