// Numbered plain-SQL migrations, applied in one transaction under an advisory lock so
// any number of processes can start at once against one database.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { VantageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { ADVISORY_NAMESPACE, AdvisoryLock } from "./advisory-locks.ts";
import { migrateJobQueue } from "./job-queue.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

const FILE_PATTERN = /^(\d{4})-([a-z0-9-]+)\.sql$/;

/** Reads `NNNN-name.sql` files; versions must run 1, 2, 3… without gaps or repeats. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new VantageError("fatal", "bad_migration_name", `Migration file ${file} must be named NNNN-lowercase-name.sql`);
    }
    const version = Number(match[1]);
    if (version !== migrations.length + 1) {
      throw new VantageError("fatal", "migration_gap", `Migration ${file} has version ${version}; expected ${migrations.length + 1}`);
    }
    migrations.push({ version, name: match[2]!, sql: await readFile(path.join(dir, file), "utf8") });
  }
  return migrations;
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS vantage_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

export interface MigrateResult {
  applied: Migration[];
  version: number;
}

/**
 * Brings the database to the latest known version, ours and then graphile-worker's (the
 * automation sink enqueues jobs through `graphile_worker.add_job`). Refuses (changing nothing) when the
 * database carries a migration this code does not know: it was migrated by a newer Vantage.
 */
export async function migrate(pool: pg.Pool, options: { logger: Logger; migrations?: Migration[] }): Promise<MigrateResult> {
  const migrations = options.migrations ?? (await loadMigrations());
  const client = await pool.connect();
  let pending: Migration[];
  try {
    await client.query("BEGIN");
    // Serializes concurrent starters; the second one finds everything applied.
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [ADVISORY_NAMESPACE, AdvisoryLock.migrate]);
    await client.query(CREATE_TABLE);
    const { rows } = await client.query<{ version: number; name: string }>("SELECT version, name FROM vantage_migrations ORDER BY version");
    assertKnownHistory(rows, migrations);
    pending = migrations.filter((migration) => migration.version > rows.length);
    for (const migration of pending) {
      options.logger.info({ version: migration.version, name: migration.name }, "applying migration");
      await client.query(migration.sql);
      await client.query("INSERT INTO vantage_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await migrateJobQueue(pool, options.logger);
  return { applied: pending, version: migrations.length };
}

function describe(migration: { version: number; name: string } | undefined): string {
  return migration ? `${migration.version} (${migration.name})` : "0 (empty)";
}

function assertKnownHistory(applied: Array<{ version: number; name: string }>, known: Migration[]): void {
  const latestApplied = applied.at(-1);
  const latestKnown = known.at(-1);
  if (latestApplied && latestApplied.version > known.length) {
    throw new VantageError(
      "fatal",
      "schema_too_new",
      `The database schema is at migration ${describe(latestApplied)}, but this Vantage only knows migrations up to ` +
        `${describe(latestKnown)}. It was migrated by a newer Vantage: run that version, or point DATABASE_URL at another database.`,
      { details: { databaseVersion: latestApplied.version, codeVersion: known.length } },
    );
  }
  applied.forEach((row, index) => {
    const expected = known[index];
    if (row.version !== index + 1 || expected?.name !== row.name) {
      throw new VantageError(
        "fatal",
        "schema_mismatch",
        `The database records migration ${describe(row)} where this Vantage expects ${describe(expected)}; ` +
          "the database was migrated by a different build. Refusing to start.",
      );
    }
  });
}

export interface SchemaStatus {
  databaseVersion: number;
  codeVersion: number;
  upToDate: boolean;
}

/** For /readyz: the applied version versus the latest known one. */
export async function schemaStatus(pool: pg.Pool, migrations: Migration[]): Promise<SchemaStatus> {
  const { rows } = await pool.query<{ version: number | null }>("SELECT max(version) AS version FROM vantage_migrations");
  const databaseVersion = rows[0]?.version ?? 0;
  return { databaseVersion, codeVersion: migrations.length, upToDate: databaseVersion === migrations.length };
}
