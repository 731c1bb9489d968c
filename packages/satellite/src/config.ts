// Reads the agent's flags and environment once, validates them with zod, and fails fast
// with one readable line per problem, naming the variable and flag (exit code 2).
import { SATELLITE_TOKEN_PATTERN, uuidSchema } from "@vantage/protocol";
import { z } from "zod";
import { SatelliteError } from "./errors.ts";
import { Secret } from "./secret.ts";

/** Where the core serves satellites when the URL names no path. */
export const SATELLITE_PATH = "/ws/satellite";

export const DEFAULT_BUFFER_SIZE = 10_000;

const SCHEMES: Record<string, string> = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" };

/** The core's URL as the socket needs it: http(s) becomes ws(s), an empty path becomes /ws/satellite. */
export function toSatelliteUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined || url.hostname === "") return undefined;
  url.protocol = scheme;
  if (url.pathname === "" || url.pathname === "/") url.pathname = SATELLITE_PATH;
  return url.toString();
}

const urlSchema = z
  .string()
  .trim()
  .transform((value, context) => {
    const url = toSatelliteUrl(value);
    if (url === undefined) {
      context.addIssue({ code: "custom", message: "must be an http(s):// or ws(s):// URL of the core, e.g. ws://vantage.example:8080" });
      return z.NEVER;
    }
    return url;
  });

const configSchema = z.object({
  url: urlSchema,
  // Any case, as the core accepts it; sent in lower case, as the core stores it.
  satelliteId: z.string().trim().pipe(uuidSchema("must be the satellite's id (a uuid) as the core showed it when the satellite was created")),
  token: z
    .string()
    .trim()
    .regex(SATELLITE_TOKEN_PATTERN, "must be the satellite's token: vsat_ followed by 43 characters")
    .transform((value) => new Secret(value)),
  caFile: z.string().trim().optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  logFormat: z.enum(["json", "pretty"]),
  bufferSize: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(10_000_000, "must be at most 10000000"),
});

export type SatelliteConfig = z.infer<typeof configSchema>;
export type LogLevel = SatelliteConfig["logLevel"];
export type LogFormat = SatelliteConfig["logFormat"];

/** Command-line flags as commander hands them over; each overrides its environment variable. */
export interface SatelliteFlags {
  url?: string;
  id?: string;
  token?: string;
  caFile?: string;
  logLevel?: string;
  logFormat?: string;
  bufferSize?: string;
}

type Key = keyof SatelliteConfig;

/** Where each setting comes from: for error messages, the CLI's help and the README table. */
export const CONFIG_SOURCES: Record<Key, { env: string; flag: `--${string}`; from: keyof SatelliteFlags }> = {
  url: { env: "VANTAGE_URL", flag: "--url", from: "url" },
  satelliteId: { env: "VANTAGE_SATELLITE_ID", flag: "--id", from: "id" },
  token: { env: "VANTAGE_SATELLITE_TOKEN", flag: "--token", from: "token" },
  caFile: { env: "VANTAGE_CA_FILE", flag: "--ca-file", from: "caFile" },
  logLevel: { env: "VANTAGE_LOG_LEVEL", flag: "--log-level", from: "logLevel" },
  logFormat: { env: "VANTAGE_LOG_FORMAT", flag: "--log-format", from: "logFormat" },
  bufferSize: { env: "VANTAGE_SATELLITE_BUFFER_SIZE", flag: "--buffer-size", from: "bufferSize" },
};

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** A value as an error message may show it: never the token. */
function shown(key: Key, value: string | undefined): string {
  if (value === undefined) return "nothing";
  if (key !== "token") return JSON.stringify(value);
  return `a value of ${value.length} characters (not shown)`;
}

export function loadSatelliteConfig(env: Record<string, string | undefined>, flags: SatelliteFlags = {}, options: { isTTY?: boolean } = {}): SatelliteConfig {
  const pick = (key: Key) => nonEmpty(flags[CONFIG_SOURCES[key].from]) ?? nonEmpty(env[CONFIG_SOURCES[key].env]);
  const raw: Record<Key, string | undefined> = {
    url: pick("url"),
    satelliteId: pick("satelliteId"),
    token: pick("token"),
    caFile: pick("caFile"),
    logLevel: pick("logLevel") ?? "info",
    logFormat: pick("logFormat") ?? (options.isTTY ? "pretty" : "json"),
    bufferSize: pick("bufferSize") ?? String(DEFAULT_BUFFER_SIZE),
  };
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path[0] as Key;
    const source = CONFIG_SOURCES[key];
    const problem = raw[key] === undefined ? "is required" : issue.message;
    return `  ${source.flag} (or ${source.env}) ${problem}; got ${shown(key, raw[key])}`;
  });
  throw new SatelliteError("invalid_config", `Invalid configuration:\n${lines.join("\n")}`, { exitCode: 2 });
}
