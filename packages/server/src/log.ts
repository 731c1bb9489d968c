// Structured logging: JSON lines for machines, pretty lines on a terminal.
import { pino, type Logger } from "pino";

export type { Logger };

export type LogFormat = "json" | "pretty";

export function createLogger(options: { level: string; format: LogFormat; name?: string }): Logger {
  const base = { level: options.level, name: options.name ?? "vantage" };
  if (options.format === "pretty") {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name" } },
    });
  }
  return pino(base);
}

/** A logger that discards everything: for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
