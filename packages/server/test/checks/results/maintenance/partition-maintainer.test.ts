// Proves partitions are made days ahead for every level, and that retention drops whole
// partitions past each level's retention (on an injected clock) without ever deleting a row.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RESULT_RETENTION, ingestResults, resolveRetention } from "../../../../src/checks/index.ts";
import { maintainPartitions } from "../../../../src/checks/results/maintenance/partition-maintainer.ts";
import { DAY_MS, listPartitions, RESULT_TABLES } from "../../../../src/checks/results/partitions.ts";
import { createResultsDatabase, ingestContext, makeResult } from "../../../support/checks/check-results.ts";

let pool: pg.Pool;

beforeAll(async () => {
  pool = await createResultsDatabase("partition-maintainer");
  // Any DELETE or TRUNCATE of results or rollups fails the test: retention must DROP.
  await pool.query(`
    CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'retention deleted rows from %', TG_TABLE_NAME; END $$;
    CREATE TRIGGER no_delete BEFORE DELETE OR TRUNCATE ON check_results FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
    CREATE TRIGGER no_delete BEFORE DELETE OR TRUNCATE ON check_rollups_1m FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
    CREATE TRIGGER no_delete BEFORE DELETE OR TRUNCATE ON check_rollups_1h FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
    CREATE TRIGGER no_delete BEFORE DELETE OR TRUNCATE ON check_rollups_1d FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();`);
});

afterAll(async () => {
  await pool?.end();
});

const names = async (level: keyof typeof RESULT_TABLES) => (await listPartitions(pool, RESULT_TABLES[level])).map((partition) => partition.name);
const dayName = (table: string, at: number) => `${table}_${new Date(at).toISOString().slice(0, 10).replaceAll("-", "")}`;

async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

describe("the partition maintainer", () => {
  it("makes today's and the next three days' partitions of every level, and a second pass makes none", async () => {
    const now = Date.UTC(2031, 11, 30, 12);
    const context = ingestContext(pool, { now: () => now });
    const pass = await withClient((client) => maintainPartitions(client, { ...context, now: () => now }));

    expect(pass.dropped).toEqual([]);
    expect(pass.created).toEqual([
      "check_results_20311230",
      "check_results_20311231",
      "check_results_20320101",
      "check_results_20320102",
      "check_rollups_1m_20311230",
      "check_rollups_1m_20311231",
      "check_rollups_1m_20320101",
      "check_rollups_1m_20320102",
      "check_rollups_1h_203112",
      "check_rollups_1h_203201",
      "check_rollups_1d_2031",
      "check_rollups_1d_2032",
    ]);
    expect(await withClient((client) => maintainPartitions(client, { ...context, now: () => now }))).toEqual({ created: [], dropped: [] });
  });

  it("drops the partitions whose whole range is past each level's retention, keeping their neighbours, and never deletes", async () => {
    const start = Date.UTC(2033, 0, 10, 12);
    const context = ingestContext(pool, { now: () => start });
    await withClient((client) => maintainPartitions(client, { ...context, now: () => start }));
    await ingestResults(pool, [makeResult({ at: start }), makeResult({ at: start + DAY_MS })], context);

    // 14 days after the 10th ends, its raw partition goes; the 11th's stays one more day.
    const later = Date.UTC(2033, 0, 25, 0, 0, 1);
    const pass = await withClient((client) => maintainPartitions(client, { ...context, now: () => later }));

    expect(pass.dropped).toEqual(["check_results_20330110"]);
    const raw = await names("raw");
    expect(raw).not.toContain("check_results_20330110");
    expect(raw).toContain(dayName("check_results", start + DAY_MS));
    expect(Number((await pool.query("SELECT count(*) AS n FROM check_results WHERE started_at >= '2033-01-01'")).rows[0].n)).toBe(1);
    expect(await names("1m")).toContain("check_rollups_1m_20330110");
    expect((await pool.query("SELECT to_regclass('check_results_20330110') AS t")).rows[0].t).toBeNull();
  });

  it("drops rollup partitions by their own retention: minutes after 30 days, hours by month after 400, days by year after five years", async () => {
    const start = Date.UTC(2035, 5, 15);
    const context = ingestContext(pool, { now: () => start });
    await withClient((client) => maintainPartitions(client, { ...context, now: () => start }));
    const { retention } = context;
    expect(retention).toEqual(DEFAULT_RESULT_RETENTION);

    const in31Days = Date.UTC(2035, 5, 16) + 30 * DAY_MS + 1;
    const dropped31 = (await withClient((client) => maintainPartitions(client, { ...context, now: () => in31Days }))).dropped;
    expect(dropped31).toContain("check_rollups_1m_20350615");
    expect(dropped31).not.toContain("check_rollups_1h_203506");

    const afterJune = Date.UTC(2035, 6, 1) + 400 * DAY_MS + 1;
    const droppedHours = (await withClient((client) => maintainPartitions(client, { ...context, now: () => afterJune }))).dropped;
    expect(droppedHours).toContain("check_rollups_1h_203506");
    expect(droppedHours).not.toContain("check_rollups_1d_2035");
  });
});

describe("the retention", () => {
  it("takes the defaults for unset levels and refuses a level kept shorter than the one it is rebuilt from, naming both settings", () => {
    expect(resolveRetention({})).toEqual(DEFAULT_RESULT_RETENTION);
    expect(resolveRetention({ rawDays: 7, rollup1dDays: 3000 })).toEqual({ ...DEFAULT_RESULT_RETENTION, rawDays: 7, rollup1dDays: 3000 });
    expect(() => resolveRetention({ rollup1mDays: 7 })).toThrow("VANTAGE_RETENTION_1M_DAYS (7 days) must be at least VANTAGE_RETENTION_RAW_DAYS (14 days)");
    expect(() => resolveRetention({ rawDays: 40 })).toThrow(/VANTAGE_RETENTION_1M_DAYS \(30 days\) must be at least VANTAGE_RETENTION_RAW_DAYS \(40 days\)/);
  });
});
