// The real `vantage server` process: embedded PostgreSQL started and stopped with it (Ctrl-C too), exits with readable errors, and DATABASE_URL mode.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations } from "../src/storage/index.ts";
import { createSatelliteThroughApi } from "./support/api/admin-api.ts";
import { createEmptyDatabase, createTestDatabase } from "./support/database.ts";
import { connectFakeSatellite } from "./support/satellites/fake-satellite.ts";
import { runVantage, startVantageServer, type VantageProcess } from "./support/process.ts";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "vantage-cli-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const ADMIN_TOKEN = "test-admin-token-0123456789";

const startServer = (options: { detached?: boolean } = {}) =>
  startVantageServer(["--port", "0", "--data-dir", dataDir], { VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN }, options);

/** Log lines at error level or above (pino: 50 error, 60 fatal). */
const errorsIn = (server: VantageProcess) => server.logs.filter((line) => Number(line.level) >= 50);

async function databaseUrl(): Promise<string> {
  const settings = JSON.parse(await readFile(path.join(dataDir, "embedded-postgres.json"), "utf8")) as { port: number; user: string; password: string };
  return `postgres://${settings.user}:${encodeURIComponent(settings.password)}@127.0.0.1:${settings.port}/vantage`;
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: await databaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("vantage server with the embedded PostgreSQL", () => {
  it("starts ready, stops with its PostgreSQL on Ctrl-C, and finds the same data on the next start", async () => {
    const first = await startServer();
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    await withClient((client) => client.query("CREATE TABLE kept_across_restarts AS SELECT 42 AS answer"));
    // The core's sessions come over the Unix socket in the cluster's directory (no client
    // address), none over loopback TCP (this test's own session does: it is left out).
    const transports = await withClient(
      async (client) =>
        (
          await client.query<{ socket: number; tcp: number }>(
            `SELECT count(*) FILTER (WHERE client_addr IS NULL)::int AS socket, count(*) FILTER (WHERE client_addr IS NOT NULL)::int AS tcp
             FROM pg_stat_activity WHERE datname = 'vantage' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
          )
        ).rows[0]!,
    );
    expect(transports.tcp).toBe(0);
    expect(transports.socket).toBeGreaterThan(0);
    const postmasterPid = Number((await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);
    expect(isAlive(postmasterPid)).toBe(true);

    first.server.child.kill("SIGINT");
    expect(await first.server.exited).toBe(0);
    expect(isAlive(postmasterPid)).toBe(false);

    const second = await startServer();
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    const rows = await withClient(async (client) => (await client.query("SELECT answer FROM kept_across_restarts")).rows);
    expect(rows).toEqual([{ answer: 42 }]);
    second.server.child.kill("SIGTERM");
    expect(await second.server.exited).toBe(0);
  });

  it("stops gracefully when Ctrl-C reaches its whole process group: satellites told server_shutdown, PostgreSQL stopped last, exit 0", async () => {
    const { server, url } = await startServer({ detached: true });
    const { satellite } = await connectFakeSatellite(url, await createSatelliteThroughApi(url, ADMIN_TOKEN, "ctrl-c"));
    const postmasterPid = Number((await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);

    process.kill(-server.child.pid!, "SIGINT"); // what a terminal does on Ctrl-C

    expect(await server.exited).toBe(0);
    expect(await satellite.next("shutdown")).toEqual({ type: "shutdown", reason: "server_shutdown" });
    expect((await satellite.closed).code).toBe(1001);
    expect(isAlive(postmasterPid)).toBe(false);
    expect(errorsIn(server)).toEqual([]);
    expect(server.stderr()).toBe("");
    const messages = server.logs.map((line) => line.msg);
    expect(messages.indexOf("embedded PostgreSQL stopped")).toBeGreaterThan(messages.indexOf("satellite handed over: this core is shutting down"));
    expect(messages.at(-1)).toBe("stopped");
  });

  it("exits non-zero, with PostgreSQL stopped, when the data was migrated by a newer Vantage", async () => {
    const first = await startServer();
    await withClient((client) => client.query("INSERT INTO vantage_migrations (version, name) VALUES (999, 'from-the-future')"));
    first.server.child.kill("SIGTERM");
    expect(await first.server.exited).toBe(0);

    const refused = runVantage(["server", "--port", "0", "--data-dir", dataDir]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toContain("migration 999 (from-the-future)");
    const pidFile = await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").catch(() => "");
    expect(pidFile).toBe("");
  });

  it("exits non-zero with a readable message on bad configuration", async () => {
    const run = runVantage(["server", "--port", "not-a-port", "--data-dir", dataDir]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("VANTAGE_PORT (or --port) must be a number");
  });
});

describe("vantage server on a database at DATABASE_URL", () => {
  it("refuses a port in use with one line naming it, and shows the admin token on the next start instead", async () => {
    const { url: databaseUrl } = await createTestDatabase();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const env = { DATABASE_URL: databaseUrl, VANTAGE_ADMIN_TOKEN: undefined };
    try {
      const refused = runVantage(["server", "--port", String(port)], env);
      expect(await refused.exited).toBe(1);
      expect(refused.stderr()).toBe(
        `vantage: port ${port} on 127.0.0.1 is already in use; stop the process using it (is another Vantage running?) or choose another port with --port or VANTAGE_PORT\n`,
      );
      expect(refused.logs.some((line) => String(line.msg).includes("admin API token"))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }

    const { server: next } = await startVantageServer(["--port", "0"], env);
    expect(next.logs.filter((line) => String(line.msg).startsWith("Generated the admin API token: vadm_"))).toHaveLength(1);
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  });

  it("never reads a crontab file in its working directory", async () => {
    const { url: databaseUrl } = await createTestDatabase();
    const cwd = await mkdtemp(path.join(os.tmpdir(), "vantage-cwd-"));
    try {
      await writeFile(path.join(cwd, "crontab"), "this is somebody else's crontab, not graphile-worker's\n");
      const { server } = await startVantageServer(["--port", "0"], { DATABASE_URL: databaseUrl, VANTAGE_ADMIN_TOKEN: ADMIN_TOKEN }, { cwd });
      expect(server.logs.filter((line) => JSON.stringify(line).toLowerCase().includes("crontab"))).toEqual([]);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe("vantage migrate", () => {
  it("applies every migration to the database at DATABASE_URL and exits 0", async () => {
    const db = await createEmptyDatabase();
    const run = runVantage(["migrate"], { DATABASE_URL: db.url });
    expect(await run.exited).toBe(0);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ version: number }>("SELECT version FROM vantage_migrations ORDER BY version");
    await client.end();
    expect(rows.map((row) => row.version)).toEqual((await loadMigrations()).map((m) => m.version));
    expect(run.logs.some((line) => line.msg === "migrated")).toBe(true);
  });
});
