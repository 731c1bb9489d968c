// Reads the environment and command-line flags once, validates them with zod, and
// fails fast with a message naming the variable. Nothing else reads process.env.
import path from "node:path";
import { HEARTBEAT_INTERVAL_MS, OFFLINE_THRESHOLD_MS } from "@vantage/protocol";
import { z } from "zod";
import { isTrustedProxyEntry, MAX_ADMIN_TOKEN_LENGTH } from "./auth/index.ts";
import { parseSecretKey, SECRET_KEY_FORMAT } from "./crypto/index.ts";
import { VantageError } from "./errors.ts";
import type { LogFormat } from "./log.ts";

const portSchema = z.coerce
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

const postgresUrlSchema = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, "must be a postgres:// or postgresql:// URL with a host, e.g. postgres://user:pass@db.example:5432/vantage");

/**
 * Days a level of check results is kept; unset: the default of checks/results. (Whether the
 * levels fit together is checked there, with the defaults: config.ts cannot import checks,
 * whose storage imports this file.)
 */
const retentionDaysSchema = z.coerce
  .number({ error: "must be a number" })
  .int("must be a whole number of days")
  .min(1, "must be at least 1 day")
  .max(36_500, "must be at most 36500 days")
  .optional();

const configSchema = z.object({
  host: z.string().trim().min(1, "must not be empty"),
  port: portSchema,
  databaseUrl: postgresUrlSchema.optional(),
  dataDir: z.string().trim().min(1, "must not be empty"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  logFormat: z.enum(["json", "pretty"]),
  adminToken: z
    .string()
    .min(16, "must be at least 16 characters")
    .max(MAX_ADMIN_TOKEN_LENGTH, `must be at most ${MAX_ADMIN_TOKEN_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (it travels in an Authorization header)")
    .optional(),
  // Up to the default offline threshold, so that default always spans at least one heartbeat.
  heartbeatIntervalMs: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number of milliseconds")
    .min(100, "must be at least 100 ms")
    .max(OFFLINE_THRESHOLD_MS, `must be at most ${OFFLINE_THRESHOLD_MS} ms (the default offline threshold)`),
  /** Encrypts secrets at rest (see crypto/secret-key.ts for what happens when it is unset). */
  secretKey: z
    .string()
    .transform((value, context) => {
      const key = parseSecretKey(value);
      if (!key) context.addIssue({ code: "custom", message: SECRET_KEY_FORMAT });
      return key ?? z.NEVER;
    })
    .optional(),
  /** Ended automation runs and skips older than this are pruned; unset: the pruner's default (30). */
  runRetentionDays: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number of days")
    .min(1, "must be at least 1 day")
    .max(36_500, "must be at most 36500 days")
    .optional(),
  /** Raw check results (recent failures; late results are rolled up from them) are kept this many days. */
  resultRetentionRawDays: retentionDaysSchema,
  /** 1-minute check rollups (charts up to a week). */
  resultRetention1mDays: retentionDaysSchema,
  /** 1-hour check rollups (charts up to 90 days, year-on-year). */
  resultRetention1hDays: retentionDaysSchema,
  /** 1-day check rollups. */
  resultRetention1dDays: retentionDaysSchema,
  /** Lets checks that run on the core probe link-local and cloud-metadata targets (checks/definitions/private-targets.ts). */
  allowPrivateTargets: z.enum(["true", "false"], { error: "must be true or false" }).transform((value) => value === "true"),
  /** Proxies whose X-Forwarded-For / Forwarded headers name the real client (CIDRs or addresses). */
  trustedProxies: z.string().transform((value, context) => {
    const entries = value
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const bad = entries.filter((entry) => !isTrustedProxyEntry(entry));
    if (bad.length > 0) {
      context.addIssue({
        code: "custom",
        message: `must be comma-separated IPv4/IPv6 addresses or CIDRs (e.g. 10.0.0.0/8,fd00::/8); not one: ${bad.join(", ")}`,
      });
    }
    return entries;
  }),
});

export type Config = z.infer<typeof configSchema> & { logFormat: LogFormat };

/** What one core process runs on: where it listens and its database; tests and labs may leave the rest to the defaults. */
export type ServerConfig = Pick<Config, "host" | "port" | "databaseUrl" | "dataDir"> &
  Partial<
    Pick<
      Config,
      | "adminToken"
      | "heartbeatIntervalMs"
      | "secretKey"
      | "runRetentionDays"
      | "trustedProxies"
      | "resultRetentionRawDays"
      | "resultRetention1mDays"
      | "resultRetention1hDays"
      | "resultRetention1dDays"
      | "allowPrivateTargets"
    >
  >;

/** Command-line flags, already split by the CLI; each overrides its environment variable. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  databaseUrl?: string;
  dataDir?: string;
  logLevel?: string;
  logFormat?: string;
  trustedProxies?: string;
  /** A switch: present means true (its variable may also say false). */
  allowPrivateTargets?: boolean;
}

/** Where each setting comes from, for error messages and the README table. */
const SOURCES: Record<keyof z.infer<typeof configSchema>, { env: string; flag?: string }> = {
  host: { env: "VANTAGE_HOST", flag: "--host" },
  port: { env: "VANTAGE_PORT", flag: "--port" },
  databaseUrl: { env: "DATABASE_URL", flag: "--database-url" },
  dataDir: { env: "VANTAGE_DATA_DIR", flag: "--data-dir" },
  logLevel: { env: "VANTAGE_LOG_LEVEL", flag: "--log-level" },
  logFormat: { env: "VANTAGE_LOG_FORMAT", flag: "--log-format" },
  // No flag: a command line is visible to every user of the machine.
  adminToken: { env: "VANTAGE_ADMIN_TOKEN" },
  heartbeatIntervalMs: { env: "VANTAGE_HEARTBEAT_INTERVAL_MS" },
  secretKey: { env: "VANTAGE_SECRET_KEY" },
  // No flag, like the heartbeat interval: a tuning knob set once per deployment.
  runRetentionDays: { env: "VANTAGE_RUN_RETENTION_DAYS" },
  resultRetentionRawDays: { env: "VANTAGE_RETENTION_RAW_DAYS" },
  resultRetention1mDays: { env: "VANTAGE_RETENTION_1M_DAYS" },
  resultRetention1hDays: { env: "VANTAGE_RETENTION_1H_DAYS" },
  resultRetention1dDays: { env: "VANTAGE_RETENTION_1D_DAYS" },
  trustedProxies: { env: "VANTAGE_TRUSTED_PROXIES", flag: "--trusted-proxies" },
  allowPrivateTargets: { env: "VANTAGE_ALLOW_PRIVATE_TARGETS", flag: "--allow-private-targets" },
};

/** How a rejected value is shown: never a secret. */
const SHOW_VALUE: Partial<Record<keyof typeof SOURCES, (value: string) => string>> = {
  databaseUrl: maskDatabaseUrl,
  adminToken: () => "<redacted>",
  secretKey: () => "<redacted>",
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags = {}, options: { cwd?: string; isTTY?: boolean } = {}): Config {
  const fromEnv = (key: keyof typeof SOURCES) => nonEmpty(env[SOURCES[key].env]);
  const pick = (key: Exclude<keyof ConfigFlags, "allowPrivateTargets">) => nonEmpty(flags[key]) ?? fromEnv(key);
  const raw = {
    host: pick("host") ?? "127.0.0.1",
    port: pick("port") ?? "8080",
    databaseUrl: pick("databaseUrl"),
    dataDir: path.resolve(options.cwd ?? process.cwd(), pick("dataDir") ?? ".vantage"),
    logLevel: pick("logLevel") ?? "info",
    logFormat: pick("logFormat") ?? (options.isTTY ? "pretty" : "json"),
    adminToken: fromEnv("adminToken"),
    heartbeatIntervalMs: fromEnv("heartbeatIntervalMs") ?? String(HEARTBEAT_INTERVAL_MS),
    secretKey: fromEnv("secretKey"),
    runRetentionDays: fromEnv("runRetentionDays"),
    resultRetentionRawDays: fromEnv("resultRetentionRawDays"),
    resultRetention1mDays: fromEnv("resultRetention1mDays"),
    resultRetention1hDays: fromEnv("resultRetention1hDays"),
    resultRetention1dDays: fromEnv("resultRetention1dDays"),
    trustedProxies: pick("trustedProxies") ?? "",
    allowPrivateTargets: flags.allowPrivateTargets ? "true" : (fromEnv("allowPrivateTargets")?.toLowerCase() ?? "false"),
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof typeof SOURCES;
      const { env: variable, flag } = SOURCES[key];
      const show = SHOW_VALUE[key];
      const value = show ? show(String(raw[key])) : JSON.stringify(raw[key]);
      return `  ${variable}${flag ? ` (or ${flag})` : ""} ${issue.message}; got ${value}`;
    });
    throw new VantageError("fatal", "invalid_config", `Invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** The URL with its password replaced, safe to log. */
export function maskDatabaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== "") url.password = "*****";
    return url.toString();
  } catch {
    return "<unparseable URL>";
  }
}
