// Gives a test file databases of its own on the run's one PostgreSQL: a clone of the
// migrated template, or an empty one for migration tests. Dropped by the global teardown.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  name: string;
  url: string;
}

function urlOf(database: string): string {
  const url = new URL(inject("testAdminUrl"));
  url.pathname = `/${database}`;
  return url.toString();
}

async function createDatabase(template: string | undefined): Promise<TestDatabase> {
  const name = `${inject("testDatabasePrefix")}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: inject("testAdminUrl") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
  } finally {
    await admin.end();
  }
  return { name, url: urlOf(name) };
}

/** A database with every migration applied, cloned from the run's template. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(inject("testTemplateDatabase"));
}

/** A database with nothing in it, for tests of migrations themselves. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase(undefined);
}
