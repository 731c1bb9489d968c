// The agent's logs: pino JSON lines, or pretty lines on a terminal. A `token` field is
// censored wherever it appears, in case one slips past the Secret wrapper.
import { pino, type Logger } from "pino";
import type { LogFormat, LogLevel } from "./config.ts";
import { REDACTED } from "./secret.ts";

export type { Logger };

const PRETTY = { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name" } };

export function createAgentLogger(options: { level: LogLevel; format: LogFormat }): Logger {
  return pino({
    name: "vantage-satellite",
    level: options.level,
    redact: { paths: ["token", "*.token"], censor: REDACTED },
    ...(options.format === "pretty" ? { transport: PRETTY } : {}),
  });
}
