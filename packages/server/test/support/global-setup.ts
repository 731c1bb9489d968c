// Starts ONE PostgreSQL for the whole test run (embedded, or TEST_DATABASE_URL), migrates a
// template database once, and hands its coordinates to every test file.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { silentLogger } from "../../src/log.ts";
import { createPool, migrate, startEmbeddedPostgres } from "../../src/storage/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test server (for CREATE/DROP DATABASE). */
    testAdminUrl: string;
    /** Migrated database every test database is cloned from. */
    testTemplateDatabase: string;
    /** Prefix of every database this run creates, so teardown can find them. */
    testDatabasePrefix: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString("hex");
  const prefix = `vantage_test_${runId}`;
  const template = `${prefix}_template`;
  const logger = silentLogger();

  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    // /tmp, not the checkout: as root PostgreSQL runs as user `postgres`, who must reach the directory.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "vantage-test-pg-"));
    const embedded = await startEmbeddedPostgres({ dataDir, logger, database: "postgres", maxConnections: 400 });
    adminUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const urlOf = (database: string) => Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  const pool = createPool(urlOf(template), logger, { max: 1 });
  await migrate(pool, { logger });
  await pool.end();
  await admin.end();

  project.provide("testAdminUrl", adminUrl);
  project.provide("testTemplateDatabase", template);
  project.provide("testDatabasePrefix", prefix);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
    await client.end();
    await stopServer();
  };
}
