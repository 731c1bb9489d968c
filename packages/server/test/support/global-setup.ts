// Starts ONE PostgreSQL for the whole test run (embedded, or TEST_DATABASE_URL), migrates a
// template database once, and hands its coordinates to every test file.
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startScratchPostgres } from "../../src/storage/postgres/scratch-postgres.ts";

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
  const prefix = `vantage_test_${randomBytes(4).toString("hex")}`;
  const template = `${prefix}_template`;
  const server = await startScratchPostgres({ adminUrl: process.env.TEST_DATABASE_URL, maxConnections: 400, label: "test" });
  await server.createMigratedDatabase(template);

  project.provide("testAdminUrl", server.adminUrl);
  project.provide("testTemplateDatabase", template);
  project.provide("testDatabasePrefix", prefix);

  return async () => {
    await server.dropDatabases(prefix);
    await server.stop();
  };
}
