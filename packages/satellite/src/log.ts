// The agent's logs: pino JSON lines, or pretty lines on a terminal. A `token` field is
// censored wherever it appears, in case one slips past the Secret wrapper.
import { pino, type Logger } from "pino";
import pinoPretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.ts";
import { REDACTED } from "./secret.ts";

export type { Logger };

// Synchronous, so the last lines before an exit (a "bye" to the core, a fatal error) are not lost.
const PRETTY = { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name", sync: true };

export function createAgentLogger(options: { level: LogLevel; format: LogFormat }): Logger {
  const settings = { name: "vantage-satellite", level: options.level, redact: { paths: ["token", "*.token"], censor: REDACTED } };
  // Pretty lines are formatted in this thread, as a stream, not by a pino transport: a transport
  // loads its target module by name in a worker, which the standalone bundle (one file, no
  // node_modules beside it) cannot resolve. An agent logs a few lines a minute.
  return options.format === "pretty" ? pino(settings, pinoPretty(PRETTY)) : pino(settings);
}
