// Migrations: two instances migrating at once apply each once, a database from a newer Vantage is refused unchanged, and /readyz tells.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/log.ts";
import { startCore, type Core } from "../src/main.ts";
import { loadMigrations } from "../src/storage/index.ts";
import { createEmptyDatabase, createTestDatabase } from "./support/database.ts";

const logger = silentLogger();
const cores: Core[] = [];

async function start(databaseUrl: string): Promise<Core> {
  const core = await startCore({ host: "127.0.0.1", port: 0, databaseUrl, dataDir: "/nonexistent" }, logger);
  cores.push(core);
  return core;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()));
});

describe("migrations", () => {
  it("two instances starting at once on an empty database both become ready, each migration applied once", async () => {
    const db = await createEmptyDatabase();
    const [a, b] = await Promise.all([start(db.url), start(db.url)]);
    for (const core of [a!, b!]) {
      const response = await fetch(`${core.url}/readyz`);
      expect(response.status).toBe(200);
    }
    const known = await loadMigrations();
    const applied = await query<{ version: number; name: string }>(db.url, "SELECT version, name FROM vantage_migrations ORDER BY version");
    expect(applied).toEqual(known.map(({ version, name }) => ({ version, name })));
  });

  it("refuses to start on a database migrated by a newer Vantage, naming both versions and changing nothing", async () => {
    const db = await createTestDatabase();
    await query(db.url, "INSERT INTO vantage_migrations (version, name) VALUES (999, 'from-the-future')");
    const before = await query(db.url, "SELECT version, name, applied_at FROM vantage_migrations ORDER BY version");
    const tablesBefore = await query(db.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    const latest = (await loadMigrations()).at(-1)!;

    const failure = start(db.url);
    await expect(failure).rejects.toThrow(`migration 999 (from-the-future)`);
    await expect(failure).rejects.toThrow(`only knows migrations up to ${latest.version} (${latest.name})`);

    expect(await query(db.url, "SELECT version, name, applied_at FROM vantage_migrations ORDER BY version")).toEqual(before);
    expect(await query(db.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).toEqual(tablesBefore);
  });

  it("/readyz turns 503 when the database is no longer fully migrated", async () => {
    const db = await createTestDatabase();
    const core = await start(db.url);
    expect((await fetch(`${core.url}/readyz`)).status).toBe(200);
    await query(db.url, "DELETE FROM vantage_migrations WHERE version = (SELECT max(version) FROM vantage_migrations)");
    const response = await fetch(`${core.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ checks: { migrations: { ok: false } } });
  });
});
