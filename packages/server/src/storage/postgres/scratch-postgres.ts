// A throwaway PostgreSQL for the test suite and the benchmarks: the server named by a URL,
// or an embedded one in a temporary directory that stop() removes again.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { silentLogger } from "../../log.ts";
import { createPool } from "../database.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { migrate } from "../migrate.ts";
import { withClient } from "../with-client.ts";

export interface ScratchPostgres {
  /** URL of a maintenance database (`postgres`) on the server, for CREATE/DROP DATABASE. */
  adminUrl: string;
  /** How the server was obtained, for reports. */
  describe: string;
  /** URL of another database on the same server. */
  urlOf(database: string): string;
  /** Creates `database` and applies every migration to it. */
  createMigratedDatabase(database: string): Promise<string>;
  /** Drops every database whose name starts with `prefix`. */
  dropDatabases(prefix: string): Promise<void>;
  /** Stops the embedded server (if one was started) and removes its directory. */
  stop(): Promise<void>;
}

export interface ScratchPostgresOptions {
  /** A server to use instead of starting an embedded one (its settings are its own). */
  adminUrl?: string;
  maxConnections?: number;
  label: string;
  /** Settings of the embedded server (see EmbeddedPostgresOptions.settings); ignored with adminUrl. */
  settings?: Readonly<Record<string, string>>;
}

export async function startScratchPostgres(options: ScratchPostgresOptions): Promise<ScratchPostgres> {
  const logger = silentLogger();
  let adminUrl = options.adminUrl;
  let describe = `PostgreSQL at ${options.label}`;
  let stop = async () => {};
  if (!adminUrl) {
    // Under /tmp, not the checkout: as root PostgreSQL runs as user `postgres`, who must reach it.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `vantage-${options.label}-pg-`));
    const embedded = await startEmbeddedPostgres({ dataDir, logger, database: "postgres", maxConnections: options.maxConnections, settings: options.settings });
    adminUrl = embedded.url;
    describe = "embedded PostgreSQL";
    stop = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = adminUrl;
  const urlOf = (database: string) => Object.assign(new URL(admin), { pathname: `/${database}` }).toString();
  const withAdmin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(admin, fn);

  return {
    adminUrl: admin,
    describe,
    urlOf,
    async createMigratedDatabase(database) {
      await withAdmin((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`));
      const pool = createPool(urlOf(database), logger, { max: 1 });
      try {
        await migrate(pool, { logger });
      } finally {
        await pool.end();
      }
      return urlOf(database);
    },
    dropDatabases: (prefix) =>
      withAdmin(async (client) => {
        const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
        for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
      }),
    stop,
  };
}
