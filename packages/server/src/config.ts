// Reads the environment and command-line flags once, validates them with zod, and
// fails fast with a message naming the variable. Nothing else reads process.env.
import path from "node:path";
import { z } from "zod";
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

const configSchema = z.object({
  host: z.string().trim().min(1, "must not be empty"),
  port: portSchema,
  databaseUrl: postgresUrlSchema.optional(),
  dataDir: z.string().trim().min(1, "must not be empty"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  logFormat: z.enum(["json", "pretty"]),
});

export type Config = z.infer<typeof configSchema> & { logFormat: LogFormat };

/** Command-line flags, already split by the CLI; each overrides its environment variable. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  databaseUrl?: string;
  dataDir?: string;
  logLevel?: string;
  logFormat?: string;
}

/** Where each setting comes from, for error messages and the README table. */
const SOURCES: Record<keyof z.infer<typeof configSchema>, { env: string; flag: string }> = {
  host: { env: "VANTAGE_HOST", flag: "--host" },
  port: { env: "VANTAGE_PORT", flag: "--port" },
  databaseUrl: { env: "DATABASE_URL", flag: "--database-url" },
  dataDir: { env: "VANTAGE_DATA_DIR", flag: "--data-dir" },
  logLevel: { env: "VANTAGE_LOG_LEVEL", flag: "--log-level" },
  logFormat: { env: "VANTAGE_LOG_FORMAT", flag: "--log-format" },
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

export function loadConfig(
  env: Record<string, string | undefined>,
  flags: ConfigFlags = {},
  options: { cwd?: string; isTTY?: boolean } = {},
): Config {
  const pick = (key: keyof typeof SOURCES) => nonEmpty(flags[key]) ?? nonEmpty(env[SOURCES[key].env]);
  const raw = {
    host: pick("host") ?? "127.0.0.1",
    port: pick("port") ?? "8080",
    databaseUrl: pick("databaseUrl"),
    dataDir: path.resolve(options.cwd ?? process.cwd(), pick("dataDir") ?? ".vantage"),
    logLevel: pick("logLevel") ?? "info",
    logFormat: pick("logFormat") ?? (options.isTTY ? "pretty" : "json"),
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof typeof SOURCES;
      const source = SOURCES[key];
      const value = key === "databaseUrl" ? maskDatabaseUrl(String(raw[key])) : JSON.stringify(raw[key]);
      return `  ${source.env} (or ${source.flag}) ${issue.message}; got ${value}`;
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
