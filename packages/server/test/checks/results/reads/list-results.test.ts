// Proves result pages are newest first and stable under keyset paging (no repeats, no gaps,
// even as new results arrive), filter by location and status, and read through the indexes.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckResultInput, ingestResults, listResults } from "../../../../src/checks/index.ts";
import { createResultsDatabase, ingestContext, makeResult } from "../../../support/checks/check-results.ts";

let pool: pg.Pool;
const checkId = "00000000-0000-4000-8000-00000000000a";
const other = "00000000-0000-4000-8000-00000000000b";
const base = Date.now() - 3 * 24 * 3_600_000;
let all: CheckResultInput[];

beforeAll(async () => {
  pool = await createResultsDatabase("list-results");
  const context = ingestContext(pool);
  // Three locations over three days, some failing; two results share a start time.
  all = [];
  for (let i = 0; i < 90; i++) {
    const location = ["core", "eu-1", "us-1"][i % 3]!;
    all.push(makeResult({ checkId, location, at: base + Math.floor(i / 2) * 3_600_000, status: i % 7 === 0 ? "down" : i % 11 === 0 ? "error" : "up" }));
  }
  await ingestResults(pool, [...all, makeResult({ checkId: other, at: base })], context);
});

afterAll(async () => {
  await pool?.end();
});

const newestFirst = (results: CheckResultInput[]) =>
  [...results].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.resultId < b.resultId ? 1 : -1)).map((result) => result.resultId);

async function everyPage(options: Omit<Parameters<typeof listResults>[2], "cursor">): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await listResults(pool, checkId, { ...options, cursor });
    ids.push(...page.results.map((result) => result.resultId));
    cursor = page.next;
  } while (cursor);
  return ids;
}

describe("listResults", () => {
  it("pages every result of a check newest first across its locations, each once", async () => {
    expect(await everyPage({ limit: 7 })).toEqual(newestFirst(all));
  });

  it("filters by location and by status, and recent failures come from every location", async () => {
    expect(await everyPage({ limit: 4, location: "eu-1" })).toEqual(newestFirst(all.filter((result) => result.location === "eu-1")));
    expect(await everyPage({ limit: 4, status: ["down", "error"] })).toEqual(newestFirst(all.filter((result) => result.status !== "up")));
    expect(await everyPage({ limit: 4, status: "up", location: "core" })).toEqual(
      newestFirst(all.filter((result) => result.status === "up" && result.location === "core")),
    );
  });

  it("keeps a page sequence stable while newer results arrive", async () => {
    const first = await listResults(pool, checkId, { limit: 10 });
    await ingestResults(pool, [makeResult({ checkId, at: Date.now() })], ingestContext(pool));
    const second = await listResults(pool, checkId, { limit: 10, cursor: first.next });
    expect(second.results.map((result) => result.resultId)).toEqual(newestFirst(all).slice(10, 20));
  });

  it("refuses a cursor it did not make", async () => {
    await expect(listResults(pool, checkId, { limit: 5, cursor: "bm90LWEtY3Vyc29y" })).rejects.toMatchObject({ code: "invalid_cursor" });
  });

  it("reads one location through the primary key and failures through the failures index, in order without sorting", async () => {
    // A few rows make any plan cheap: forbid sequential scans and sorts to see what the indexes can serve.
    const plan = async (sql: string, params: unknown[]) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off");
        const { rows } = await client.query(`EXPLAIN ${sql}`, params);
        await client.query("ROLLBACK");
        return rows.map((row) => row["QUERY PLAN"]).join("\n");
      } finally {
        client.release();
      }
    };
    const byLocation = await plan(
      "SELECT * FROM check_results WHERE check_id = $1 AND location = $2 AND (started_at, result_id) < ($3::timestamptz, $4::uuid) ORDER BY started_at DESC, result_id DESC LIMIT 10",
      [checkId, "core", new Date().toISOString(), "ffffffff-ffff-4fff-bfff-ffffffffffff"],
    );
    expect(byLocation).toMatch(/Index Scan Backward using check_results_\d+_pkey/);
    expect(byLocation).not.toMatch(/Seq Scan|Sort/);
    const failures = await plan(
      "SELECT * FROM check_results WHERE check_id = $1 AND status = ANY ($2::text[]) AND status <> 'up' ORDER BY started_at DESC, result_id DESC LIMIT 10",
      [checkId, ["down", "error"]],
    );
    expect(failures).toMatch(/Index Scan using check_results_\d+_check_id_started_at_result_id_idx/);
    expect(failures).not.toMatch(/Seq Scan|Sort/);
  });
});
