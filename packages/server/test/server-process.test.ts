import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations } from "../src/storage/index.ts";
import { createEmptyDatabase } from "./support/database.ts";
import { runVantage } from "./support/process.ts";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "vantage-cli-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function startServer() {
  const server = runVantage(["server", "--port", "0", "--data-dir", dataDir]);
  const listening = await server.waitForLog((line) => typeof line.url === "string" && String(line.msg).startsWith("Vantage is listening"));
  return { server, url: listening.url as string };
}

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
