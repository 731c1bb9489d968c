// Builds check results and the results context for tests of checks/results: a pool on a fresh
// database, its partition catalog, and results with sensible defaults.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { CheckResultInput, ResultRetention } from "../../../src/checks/index.ts";
import { DEFAULT_RESULT_RETENTION } from "../../../src/checks/index.ts";
import type { IngestContext } from "../../../src/checks/results/ingest/ingest-results.ts";
import { createPartitionCatalog } from "../../../src/checks/results/partitions.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../database.ts";

export async function createResultsDatabase(name: string): Promise<pg.Pool> {
  const { url } = await createTestDatabase();
  return createPool(url, silentLogger(), { applicationName: name, max: 6 });
}

export function ingestContext(pool: pg.Pool, options: { now?: () => number; retention?: ResultRetention } = {}): IngestContext {
  return {
    partitions: createPartitionCatalog({ pool, logger: silentLogger() }),
    retention: options.retention ?? DEFAULT_RESULT_RETENTION,
    now: options.now ?? Date.now,
  };
}

export function makeResult(overrides: Partial<CheckResultInput> & { at?: number } = {}): CheckResultInput {
  const { at, ...rest } = overrides;
  return {
    resultId: randomUUID(),
    checkId: "00000000-0000-4000-8000-000000000001",
    location: "core",
    startedAt: new Date(at ?? Date.now()).toISOString(),
    durationMs: 42,
    status: "up",
    detail: {},
    ...rest,
  };
}

/** The start of the current UTC minute, minus `minutesAgo` minutes. */
export const minuteAgo = (minutesAgo: number, now = Date.now()) => Math.floor(now / 60_000) * 60_000 - minutesAgo * 60_000;
