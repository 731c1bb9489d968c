// What each notification channel type accepts, and which of its fields are secret: those
// are encrypted at rest and never shown by the API. One zod schema per type, built once.
import { httpUrlMessage, safeText } from "@vantage/protocol";
import { z } from "zod";

export const CHANNEL_TYPES = ["webhook", "slack", "discord", "email"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const httpUrl = z.url({ protocol: /^https?$/, error: (issue) => httpUrlMessage(issue.input) }).max(2048, "must be at most 2048 characters");

// RFC 9110 token characters; a value may not break the header line.
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, "must be an HTTP header name");
const headerValue = safeText()
  .max(4096, "must be at most 4096 characters")
  .regex(/^[^\r\n]*$/, "must not contain line breaks");

const RESERVED_HEADERS = new Set(["content-type", "content-length", "host", "x-vantage-signature", "idempotency-key"]);

const webhook = z.strictObject({
  url: httpUrl,
  /** Extra request headers, e.g. an Authorization for the receiver: secret as a whole. */
  headers: z
    .record(headerName, headerValue)
    .refine((headers) => Object.keys(headers).length <= 20, "at most 20 headers")
    .refine(
      (headers) => Object.keys(headers).every((key) => !RESERVED_HEADERS.has(key.toLowerCase())),
      `must not set ${[...RESERVED_HEADERS].join(", ")}: Vantage sets them`,
    )
    .optional(),
  /** Signs each request (X-Vantage-Signature) when set. */
  secret: safeText().min(8, "must be at least 8 characters").max(256, "must be at most 256 characters").optional(),
});

const chatWebhook = z.strictObject({
  /** The incoming-webhook URL: its path is the token, so the whole URL is secret. */
  webhookUrl: httpUrl,
  /** Lets the text ping (`<!here>`, `<@U…>` on Slack; `@everyone`, roles, users on Discord); off: they arrive as plain text. */
  mentions: z.boolean().optional(),
});

const email = z.strictObject({
  host: safeText().trim().min(1, "must not be empty").max(253, "must be at most 253 characters"),
  port: z.number().int("must be a whole number").min(1, "must be between 1 and 65535").max(65535, "must be between 1 and 65535"),
  /** TLS from the first byte (usually port 465); false still upgrades with STARTTLS when offered. */
  secure: z.boolean(),
  username: safeText().min(1, "must not be empty").max(256, "must be at most 256 characters").optional(),
  password: safeText().min(1, "must not be empty").max(1024, "must be at most 1024 characters").optional(),
  /** An address, or `Name <address>`. */
  from: safeText().trim().min(3, "must be an email address").max(320, "must be at most 320 characters"),
  to: z.array(z.email("must be an email address")).min(1, "needs at least one recipient").max(50, "must hold at most 50 recipients"),
});

interface SettingsSchemas {
  webhook: typeof webhook;
  slack: typeof chatWebhook;
  discord: typeof chatWebhook;
  email: typeof email;
}

export type ChannelSettingsOf = { [T in ChannelType]: z.infer<SettingsSchemas[T]> };

/** Fields kept encrypted and never returned; the API lists which are set in `secretsSet`. */
export const SECRET_FIELDS: { [T in ChannelType]: ReadonlyArray<keyof ChannelSettingsOf[T] & string> } = {
  webhook: ["headers", "secret"],
  slack: ["webhookUrl"],
  discord: ["webhookUrl"],
  email: ["password"],
};

const name = safeText().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

const TYPE_ERROR = `must be one of ${CHANNEL_TYPES.join(", ")}`;

export const createChannelSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ name, type: z.literal("webhook"), config: webhook }),
    z.strictObject({ name, type: z.literal("slack"), config: chatWebhook }),
    z.strictObject({ name, type: z.literal("discord"), config: chatWebhook }),
    z.strictObject({ name, type: z.literal("email"), config: email }),
  ],
  { error: TYPE_ERROR },
);
export type CreateChannelRequest = z.infer<typeof createChannelSchema>;

/**
 * A PATCH body for a channel of one type (the type itself never changes): any field may be
 * omitted to keep it, secrets included; an optional field may be null to clear it.
 */
function patchSchemaOf(settings: z.ZodObject): z.ZodType<UpdateChannelRequest> {
  const fields = Object.entries(settings.shape).map(([key, field]) => {
    const schema = field as z.ZodType;
    return [key, schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType).nullable().optional() : schema.optional()];
  });
  return z.strictObject({ name: name.optional(), config: z.strictObject(Object.fromEntries(fields) as Record<string, z.ZodType>).optional() });
}

export type UpdateChannelRequest = { name?: string; config?: Record<string, unknown> };

export const updateChannelSchemas: Record<ChannelType, z.ZodType<UpdateChannelRequest>> = {
  webhook: patchSchemaOf(webhook),
  slack: patchSchemaOf(chatWebhook),
  discord: patchSchemaOf(chatWebhook),
  email: patchSchemaOf(email),
};

/** A channel as the API shows it: its settings without the secret fields, which `secretsSet` names. */
export const channelViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  config: z.record(z.string(), z.unknown()).describe("The settings of its type, secret fields left out."),
  secretsSet: z.array(z.string()).describe("The secret fields that hold a value (never shown)."),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** What a test delivery through a channel found. */
export const testDeliveryResultSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().optional().describe("The receiver's HTTP status or SMTP reply code, when it answered."),
  error: z.string().optional().describe("Why it failed, naming the receiver (never a secret)."),
  retryable: z.boolean().optional().describe("Whether trying again later may work (unreachable, timeout, 5xx, 429)."),
});
