// A logger whose JSON lines land in an array, and a wait for the first line that matches.
import { pino, type Logger } from "pino";
import { createSignal, waitFor } from "../../../server/test/support/instance.ts";

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export interface CapturedLogs {
  logger: Logger;
  lines: LogLine[];
  /** The messages so far, in order. */
  messages(): string[];
  /** Resolves with the first line matching, now or later; rejects after timeoutMs. */
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export function captureLogs(level = "debug"): CapturedLogs {
  const lines: LogLine[] = [];
  const written = createSignal();
  const logger = pino(
    { level },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as LogLine);
        written.emit();
      },
    },
  );
  return {
    logger,
    lines,
    messages: () => lines.map((line) => line.msg),
    async waitFor(predicate, timeoutMs = 10_000) {
      await waitFor(() => lines.some(predicate), written.subscribe, timeoutMs, "a matching log line");
      return lines.find(predicate)!;
    },
  };
}
