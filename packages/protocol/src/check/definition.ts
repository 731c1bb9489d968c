// The check definition: one zod schema for what users author (JSON or YAML, through the API,
// the UI and config as code), shared by the core and the agent, plus its JSON Schema for
// editors. A definition is the common fields (name, schedule, where it runs, labels) and the
// options of its `type` at the top level; the agent receives only the probe's part of it
// (`ProbeSpec`, see `probeSpecOf`).
import { z } from "zod";
import { type Assertion, assertionsSchemaFor, CHECK_TYPES, type CheckType } from "./assertions.ts";
import { checkHealthOptionsSchema, DEFAULT_CHECK_HEALTH } from "./health.ts";
import { caseSlip, httpUrlMessage } from "../issues.ts";

export const MIN_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 86_400;
export const DEFAULT_INTERVAL_SECONDS = 60;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const IP_FAMILIES = ["any", "ipv4", "ipv6"] as const;
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "SOA", "CAA", "PTR"] as const;
export const DNS_RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"] as const;
export const DNS_PROTOCOLS = ["udp", "tcp"] as const;

/** Bounds of what one definition may carry (the API body limit is 64 KiB). */
export const MAX_URL_LENGTH = 2_048;
export const MAX_HTTP_HEADERS = 50;
export const MAX_HTTP_BODY_LENGTH = 16 * 1024;
export const MAX_PEM_LENGTH = 16 * 1024;
export const MAX_TCP_SEND_LENGTH = 4 * 1024;
export const MAX_LABELS = 32;

const hostSchema = z
  .string()
  .min(1, "cannot be empty")
  .max(253)
  .regex(/^[^\s/?#@]+$/, "must be a host name or an IP address, without a scheme, path or port");
const portSchema = z.number().int().min(1).max(65_535);
const serverNameSchema = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$/, "must be a DNS name");

/**
 * Expected HTTP status codes: an exact code (`200`, `"204"`), a class (`"2xx"`) or a range
 * (`"200-299"`).
 */
export const STATUS_PATTERN = /^(?:[1-5]\d\d|[1-5]xx|[1-5]\d\d-[1-5]\d\d)$/;
const expectStatusSchema = z
  .array(z.union([z.number().int().min(100).max(599), z.string().regex(STATUS_PATTERN, 'must be a status code (200), a class ("2xx") or a range ("200-299")')]))
  .min(1)
  .max(20)
  .default(["2xx"]);

const httpUrlSchema = z
  .string()
  .max(MAX_URL_LENGTH)
  // Aborts: a value without a scheme is told that alone, not also that it does not parse.
  .regex(/^https?:\/\/[^\s/?#]+/i, { error: (issue) => httpUrlMessage(issue.input), abort: true })
  .refine((url) => URL.canParse(url), "is not a valid URL");

export const httpOptionsShape = {
  url: httpUrlSchema,
  method: z.enum(HTTP_METHODS).default("GET"),
  /** Credential-like headers (Authorization, Cookie, *token* …) are sealed at rest by the core. */
  headers: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a header name"), z.string().max(8_192))
    .refine((headers) => Object.keys(headers).length <= MAX_HTTP_HEADERS, `at most ${MAX_HTTP_HEADERS} headers`)
    .default({}),
  body: z.string().max(MAX_HTTP_BODY_LENGTH).optional(),
  followRedirects: z.boolean().default(true),
  maxRedirects: z.number().int().min(0).max(20).default(10),
  tls: z
    .strictObject({
      /** Verify the certificate chain and host name (default true). */
      verify: z.boolean().default(true),
      serverName: serverNameSchema.optional(),
      /** Extra trusted CA certificates, PEM. */
      ca: z
        .string()
        .max(MAX_PEM_LENGTH)
        .regex(/-----BEGIN CERTIFICATE-----/, "must be PEM certificates")
        .optional(),
    })
    .default({ verify: true }),
  ipFamily: z.enum(IP_FAMILIES).default("any"),
  expectStatus: expectStatusSchema,
};

export const tcpOptionsShape = {
  host: hostSchema,
  port: portSchema,
  /** Wrap the connection in TLS (the certificate is verified). */
  tls: z.boolean().default(false),
  serverName: serverNameSchema.optional(),
  /** Sent once connected. */
  send: z.string().max(MAX_TCP_SEND_LENGTH).optional(),
  /** The response must contain this text (read until it appears or the timeout). */
  expect: z.string().min(1).max(1_024).optional(),
  ipFamily: z.enum(IP_FAMILIES).default("any"),
};

export const dnsOptionsShape = {
  /** The name to resolve (`name` is the check's own). */
  queryName: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9_.:-]+$/, "must be a DNS name (or an IP address for PTR)"),
  recordType: z.enum(DNS_RECORD_TYPES).default("A"),
  /** The resolver to ask (an IP address); the system's first nameserver when absent. */
  server: hostSchema.optional(),
  port: portSchema.default(53),
  protocol: z.enum(DNS_PROTOCOLS).default("udp"),
  expectRcode: z.array(z.enum(DNS_RCODES)).min(1).default(["NOERROR"]),
};

export const tlsOptionsShape = {
  host: hostSchema,
  port: portSchema.default(443),
  serverName: serverNameSchema.optional(),
  /** Fewer days left than this → degraded. */
  warnDays: z.number().int().min(0).max(3_650).default(14),
  /** Fewer days left than this → down (checked first: a failDays above warnDays makes degraded unreachable). */
  failDays: z.number().int().min(0).max(3_650).default(7),
  verifyChain: z.boolean().default(true),
  verifyHostname: z.boolean().default(true),
  ipFamily: z.enum(IP_FAMILIES).default("any"),
};

const optionsShapes = { http: httpOptionsShape, tcp: tcpOptionsShape, dns: dnsOptionsShape, tls: tlsOptionsShape } as const;

/** What the probe needs besides its type's options: assertions and the slow-but-up limit. */
function probeShape<T extends CheckType>(type: T) {
  return {
    type: z.literal(type),
    timeoutMs: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS),
    /** Slower than this (total time) → degraded. */
    degradedAfterMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
    assertions: assertionsSchemaFor(type),
    ...optionsShapes[type],
  };
}

/** A `type` no form has (the discriminated unions below), with the one meant when only its case is off. */
const typeMessage = (issue: { input?: unknown }) =>
  `type must be one of: ${CHECK_TYPES.join(", ")}${caseSlip((issue.input as { type?: unknown } | null | undefined)?.type, CHECK_TYPES)}`;

/** What a probe runs: the type, its options, timeout, assertions (the agent's `config`). */
export const probeSpecSchema = z.discriminatedUnion(
  "type",
  [z.strictObject(probeShape("http")), z.strictObject(probeShape("tcp")), z.strictObject(probeShape("dns")), z.strictObject(probeShape("tls"))],
  { error: typeMessage },
);
export type ProbeSpec = z.infer<typeof probeSpecSchema>;
export type HttpProbeSpec = Extract<ProbeSpec, { type: "http" }>;
export type TcpProbeSpec = Extract<ProbeSpec, { type: "tcp" }>;
export type DnsProbeSpec = Extract<ProbeSpec, { type: "dns" }>;
export type TlsProbeSpec = Extract<ProbeSpec, { type: "tls" }>;

export const labelKeySchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9._/-]{0,61}[a-z0-9])?$/, "label keys are 1–63 lower-case letters, digits, '.', '_', '/' or '-'");
const satelliteSelectorSchema = z
  .strictObject({
    ids: z.array(z.string().uuid("must be a satellite id (uuid)")).min(1).max(1_000).optional(),
    regions: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
    tags: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
  })
  .refine((selector) => selector.ids || selector.regions || selector.tags, "name satellites by ids, regions or tags")
  .meta({ anyOf: [{ required: ["ids"] }, { required: ["regions"] }, { required: ["tags"] }] });

/**
 * Where a check runs. `core` is the core location (once per cluster); `satellites` selects
 * satellites: those whose id is listed, and those matching the regions and tags given (in one
 * of the regions, if any, and carrying every tag, if any). Without `runOn` a check runs on the
 * core only; with `satellites` and no `core`, on the satellites only.
 */
export const runOnSchema = z
  .strictObject({
    core: z.boolean().optional(),
    satellites: satelliteSelectorSchema.optional(),
  })
  .transform((runOn) => ({ core: runOn.core ?? runOn.satellites === undefined, ...(runOn.satellites ? { satellites: runOn.satellites } : {}) }))
  .refine((runOn) => runOn.core || runOn.satellites, "a check must run somewhere: set core: true or select satellites");
export type RunOn = z.output<typeof runOnSchema>;
export type SatelliteSelector = z.infer<typeof satelliteSelectorSchema>;

const commonShape = {
  name: z.string().regex(/\S/, "cannot be empty").trim().max(200),
  description: z.string().max(2_000).optional(),
  enabled: z.boolean().default(true),
  intervalSeconds: z.number().int().min(MIN_INTERVAL_SECONDS).max(MAX_INTERVAL_SECONDS).default(DEFAULT_INTERVAL_SECONDS),
  runOn: runOnSchema.default({ core: true }),
  labels: z
    .record(labelKeySchema, z.string().max(200))
    .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
    .default({}),
  /** How results become the check's health (policy over locations, thresholds, window, grace). */
  health: checkHealthOptionsSchema.default({ ...DEFAULT_CHECK_HEALTH }),
};

/** The fields every kind of check has, probed or pushed (a heartbeat check has no schedule nor runOn). */
export const sharedCheckShape = {
  name: commonShape.name,
  description: commonShape.description,
  enabled: commonShape.enabled,
  labels: commonShape.labels,
  health: commonShape.health,
};

/**
 * A timeout longer than the interval would let runs overlap. JSON Schema cannot compare two
 * fields, but intervals are whole seconds and only those under a minute can be shorter than
 * the longest timeout, so the rule is spelled out for each of them.
 */
const timeoutWithinIntervalJsonSchema = {
  anyOf: [
    { not: { required: ["intervalSeconds"] } },
    { properties: { intervalSeconds: { type: "number", minimum: MAX_TIMEOUT_MS / 1000 } } },
    { not: { required: ["timeoutMs"] } },
    { properties: { timeoutMs: { type: "number", maximum: MIN_INTERVAL_SECONDS * 1000 } } },
    ...Array.from({ length: MAX_TIMEOUT_MS / 1000 - MIN_INTERVAL_SECONDS }, (_, index) => {
      const seconds = MIN_INTERVAL_SECONDS + index;
      return { properties: { intervalSeconds: { const: seconds }, timeoutMs: { type: "number", maximum: seconds * 1000 } } };
    }),
  ],
};
const timeoutWithinInterval = (value: { intervalSeconds: number; timeoutMs: number }) => value.timeoutMs <= value.intervalSeconds * 1000;
const timeoutMessage = (value: { intervalSeconds: number }) => ({
  message: `timeoutMs cannot be longer than the interval (${value.intervalSeconds} s)`,
  path: ["timeoutMs"],
});

function definitionSchemaOf<T extends CheckType>(type: T) {
  return z
    .strictObject({ ...commonShape, ...probeShape(type) })
    .superRefine((parsed, ctx) => {
      const value = parsed as unknown as { intervalSeconds: number; timeoutMs: number };
      // Compared only with an interval that passed its own checks (zod runs this after a
      // too-short one too): "intervalSeconds must be at least 10" says it all, and a timeout the
      // user never set (the 10 s default) was reported as longer than the 5 s they had asked for.
      const intervalValid = Number.isInteger(value.intervalSeconds) && value.intervalSeconds >= MIN_INTERVAL_SECONDS;
      if (intervalValid && !timeoutWithinInterval(value)) ctx.addIssue({ code: "custom", ...timeoutMessage(value) });
    })
    .meta(timeoutWithinIntervalJsonSchema);
}

/** A check as users author it (the API's create and replace body). */
export const checkDefinitionSchema = z.discriminatedUnion(
  "type",
  [definitionSchemaOf("http"), definitionSchemaOf("tcp"), definitionSchemaOf("dns"), definitionSchemaOf("tls")],
  {
    error: typeMessage,
  },
);
export type CheckDefinition = z.output<typeof checkDefinitionSchema>;
export type CheckDefinitionInput = z.input<typeof checkDefinitionSchema>;

const viewShape = {
  id: z.string(),
  /** Goes up by one with every change; a PUT or PATCH that carries an older one is refused. */
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
};

/**
 * A stored check as the API answers it: `{ id, …definition with defaults applied, revision,
 * createdAt, updatedAt }` (credential header values read `<redacted>`). Describes answers only.
 */
export const checkViewSchema = z.discriminatedUnion(
  "type",
  CHECK_TYPES.map((type) => z.object({ ...viewShape, ...commonShape, ...probeShape(type) })) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** The definition's JSON Schema (input side: defaulted fields are optional), for editors and `GET /checks/schema`. */
export const checkDefinitionJsonSchema = z.toJSONSchema(checkDefinitionSchema, { io: "input", unrepresentable: "any" });

const COMMON_KEYS = new Set(Object.keys(commonShape));

/** The probe's part of a definition: what the core's scheduler runs and a satellite is assigned. */
export function probeSpecOf(definition: CheckDefinition): ProbeSpec {
  // A plain loop: the core takes a spec for every run it starts (thousands a second).
  const spec: Record<string, unknown> = {};
  for (const key of Object.keys(definition)) if (!COMMON_KEYS.has(key)) spec[key] = (definition as Record<string, unknown>)[key];
  return spec as ProbeSpec;
}

export type { Assertion };
