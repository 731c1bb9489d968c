// Runs the real `vantage` command (or another of our bins, such as `vantage-satellite`) as a
// child process and reads its JSON log lines.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const VANTAGE_BIN = fileURLToPath(new URL("../../bin/vantage.js", import.meta.url));

export interface VantageProcess {
  child: ChildProcess;
  /** Every log line so far, parsed (non-JSON lines kept as { msg }). */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first log line matching, rejects if the process exits first. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export interface RunOptions {
  bin?: string;
  cwd?: string;
  /**
   * In a process group of its own, as a terminal runs a foreground command: signal the whole
   * group with `process.kill(-child.pid, signal)`, as Ctrl-C does.
   */
  detached?: boolean;
}

export function runVantage(args: string[], env: Record<string, string | undefined> = {}, options: RunOptions = {}): VantageProcess {
  const child = spawn(process.execPath, [options.bin ?? VANTAGE_BIN, ...args, "--log-format", "json"], {
    // A variable given as undefined is removed from the child's environment.
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, value]) => value !== undefined)),
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd,
    detached: options.detached,
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (found) finish(() => resolve(found));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
        waiters.add(check);
        void exited.then((code) => finish(() => reject(new Error(`vantage exited (${code}) first; stderr: ${stderr}`))));
        check();
      }),
  };
}

/** The line a core logs once it serves. */
export const isListening = (line: Record<string, unknown>) => typeof line.url === "string" && String(line.msg).startsWith("Vantage is listening");

/** Starts `vantage server` and resolves once it serves, with its URL. */
export async function startVantageServer(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: RunOptions = {},
  timeoutMs?: number,
): Promise<{ server: VantageProcess; url: string }> {
  const server = runVantage(["server", ...args], env, options);
  try {
    const listening = await server.waitForLog(isListening, timeoutMs);
    return { server, url: listening.url as string };
  } catch (error) {
    // Never left running behind a failed test.
    server.child.kill("SIGKILL");
    await server.exited;
    throw error;
  }
}
