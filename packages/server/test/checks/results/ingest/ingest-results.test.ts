// Proves ingest stores a batch in one statement, stores a resent result once, makes missing
// partitions on demand, and drops (and reports) results past the retention or from the future.
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ingestResults } from "../../../../src/checks/index.ts";
import { isUnmarkedResend } from "../../../../src/checks/results/ingest/ingest-results.ts";
import { DAY_MS } from "../../../../src/checks/results/partitions.ts";
import { createResultsDatabase, ingestContext, makeResult } from "../../../support/checks/check-results.ts";

let pool: pg.Pool;

beforeAll(async () => {
  pool = await createResultsDatabase("ingest-results");
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query("TRUNCATE check_results, check_rollup_dirty");
});

const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);

describe("ingestResults", () => {
  it("stores a result resent in the same batch and in a later batch once, and says which were duplicates", async () => {
    const context = ingestContext(pool);
    const first = makeResult();
    const second = makeResult({ location: "9b2c7e52-1f0e-4f51-9d43-0d4d8d1f0a11" });

    const batch1 = await ingestResults(pool, [first, second, { ...first }], context);
    expect(batch1.stored.sort()).toEqual([first.resultId, second.resultId].sort());
    expect(batch1.duplicates).toEqual([first.resultId]);

    const batch2 = await ingestResults(pool, [{ ...second }, makeResult({ resultId: first.resultId, startedAt: first.startedAt })], context);
    expect(batch2).toEqual({ stored: [], duplicates: expect.arrayContaining([first.resultId, second.resultId]), dropped: [] });
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(2);
  });

  it("said to hold no resend, stores a batch plainly, a result repeated within it once", async () => {
    const context = ingestContext(pool);
    const [first, second] = [makeResult(), makeResult()];

    const outcome = await ingestResults(pool, [first, second, { ...first }], context, { mayHoldResends: false });

    expect(outcome).toEqual({ stored: expect.arrayContaining([first.resultId, second.resultId]), duplicates: [first.resultId], dropped: [] });
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(2);
    expect(await count("SELECT count(*) AS n FROM check_rollup_dirty")).toBe(2);
  });

  it("said to hold no resend, refuses a batch holding a stored result and stores nothing of it; skipping resends, stores its new ones once", async () => {
    const context = ingestContext(pool);
    const old = makeResult();
    await ingestResults(pool, [old], context);
    const fresh = [makeResult(), makeResult()];
    const batch = [fresh[0]!, { ...old }, fresh[1]!];

    const refused = await ingestResults(pool, batch, context, { mayHoldResends: false }).catch((error: unknown) => error);

    expect(isUnmarkedResend(refused)).toBe(true);
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM check_rollup_dirty")).toBe(1);
    const redone = await ingestResults(pool, batch, context, { mayHoldResends: true });
    expect(redone).toEqual({ stored: expect.arrayContaining(fresh.map((r) => r.resultId)), duplicates: [old.resultId], dropped: [] });
    expect(redone.stored).toHaveLength(2);
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(3);
    expect(await count("SELECT count(*) AS n FROM check_rollup_dirty")).toBe(3);
  });

  it("says a failure of a plain insert for another reason is no resend", async () => {
    const context = ingestContext(pool);
    const refused = await ingestResults(pool, [makeResult({ checkId: "not-a-uuid" })], context, { mayHoldResends: false }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "22P02" });
    expect(isUnmarkedResend(refused)).toBe(false);
  });

  it("stores a batch of 5,000 results with one statement", async () => {
    const context = ingestContext(pool);
    await context.partitions.ensure("raw", [Date.now()]);
    const statements: string[] = [];
    const counting = { query: (sql: string, params?: unknown[]) => (statements.push(sql), pool.query(sql, params)) } as unknown as pg.Pool;
    const results = Array.from({ length: 5000 }, (_, i) =>
      makeResult({ checkId: `00000000-0000-4000-8000-${String(i % 500).padStart(12, "0")}`, detail: { i } }),
    );

    const outcome = await ingestResults(counting, results, context);

    expect(outcome.stored).toHaveLength(5000);
    expect(statements).toHaveLength(1);
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(5000);
  });

  it("stores each column as sent: the start time to the millisecond, an error code of any text, nulls", async () => {
    const context = ingestContext(pool);
    const at = Date.UTC(2030, 0, 1, 10, 5, 30, 123);
    const now = () => at;
    const odd = makeResult({
      resultId: "9B2C7E52-1F0E-4F51-9D43-0D4D8D1F0A11",
      startedAt: "2030-01-01T11:05:30.123+01:00",
      durationMs: 41.6,
      status: "down",
      statusCode: 503,
      errorCode: 'NULL, "quoted" {x}',
      detail: { note: "a,b" },
    });
    const plain = makeResult({ at: at + 1, errorCode: "NULL" });

    expect((await ingestResults(pool, [odd, plain], { ...context, now })).stored).toEqual([odd.resultId, plain.resultId]);
    // A resend in other letters is the same result.
    expect((await ingestResults(pool, [{ ...odd, resultId: odd.resultId.toLowerCase() }], { ...context, now })).duplicates).toEqual([
      odd.resultId.toLowerCase(),
    ]);

    const { rows } = await pool.query(
      "SELECT result_id, started_at, duration_ms, status, status_code, error_code, detail FROM check_results ORDER BY started_at",
    );
    expect(rows).toEqual([
      {
        result_id: odd.resultId.toLowerCase(),
        started_at: new Date(at),
        duration_ms: 42,
        status: "down",
        status_code: 503,
        error_code: 'NULL, "quoted" {x}',
        detail: { note: "a,b" },
      },
      { result_id: plain.resultId, started_at: new Date(at + 1), duration_ms: 42, status: "up", status_code: null, error_code: "NULL", detail: {} },
    ]);
  });

  it("marks the (check, location, minute) of each row it inserted for the rollup worker, in the same statement", async () => {
    const context = ingestContext(pool);
    const at = Date.UTC(2030, 0, 1, 10, 5, 30);
    const now = () => at;
    const results = [makeResult({ at }), makeResult({ at: at + 10_000 }), makeResult({ at: at + 60_000 })];
    await ingestResults(pool, results, { ...context, now });
    await ingestResults(pool, [results[0]!], { ...context, now });

    const { rows } = await pool.query<{ minute: Date }>("SELECT minute FROM check_rollup_dirty ORDER BY minute");
    expect(rows.map((row) => row.minute.toISOString())).toEqual(["2030-01-01T10:05:00.000Z", "2030-01-01T10:05:00.000Z", "2030-01-01T10:06:00.000Z"]);
  });

  it("writes a marker with the status and duration of each row it inserted, so a resend adds nothing", async () => {
    const context = ingestContext(pool);
    const at = Date.UTC(2030, 0, 1, 10, 5, 0);
    const now = () => at;
    const first = [makeResult({ at, durationMs: 4 }), makeResult({ at: at + 1_000, durationMs: 5_000, status: "down" })];
    await ingestResults(pool, first, { ...context, now });
    // The second batch resends both with one new result: only the new one is marked.
    await ingestResults(pool, [first[0]!, first[1]!, makeResult({ at: at + 4_000, durationMs: 400, status: "degraded" })], { ...context, now });

    const { rows } = await pool.query("SELECT status, duration_ms FROM check_rollup_dirty ORDER BY duration_ms");
    expect(rows).toEqual([
      { status: "up", duration_ms: 4 },
      { status: "degraded", duration_ms: 400 },
      { status: "down", duration_ms: 5_000 },
    ]);
  });

  it("creates the partition of a day that has none (an old buffered result) and stores the result", async () => {
    const context = ingestContext(pool);
    const tenDaysAgo = Date.now() - 10 * DAY_MS;
    const day = new Date(tenDaysAgo).toISOString().slice(0, 10).replaceAll("-", "");
    expect(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'check_results_${day}'`)).toBe(0);

    const result = makeResult({ at: tenDaysAgo });
    expect((await ingestResults(pool, [result], context)).stored).toEqual([result.resultId]);
    expect(await count(`SELECT count(*) AS n FROM check_results_${day}`)).toBe(1);
  });

  it("drops results older than the raw retention and results from beyond the partitions made ahead, counting them", async () => {
    const context = ingestContext(pool);
    const expired = makeResult({ at: Date.now() - 16 * DAY_MS });
    const future = makeResult({ at: Date.now() + 4 * DAY_MS });
    const fine = makeResult({ at: Date.now() - 12 * DAY_MS });

    const outcome = await ingestResults(pool, [expired, future, fine], context);

    expect(outcome.stored).toEqual([fine.resultId]);
    expect(outcome.dropped).toEqual([
      { resultId: expired.resultId, reason: "expired" },
      { resultId: future.resultId, reason: "future" },
    ]);
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(1);
  });

  it("keeps a result from the first millisecond of the oldest kept day and drops one from the millisecond before", async () => {
    const now = Date.UTC(2030, 0, 20, 15, 0, 0);
    const context = { ...ingestContext(pool), now: () => now };
    const oldestKeptDay = Date.UTC(2030, 0, 20) - context.retention.rawDays * DAY_MS;
    const kept = makeResult({ at: oldestKeptDay });
    const expired = makeResult({ at: oldestKeptDay - 1 });

    const outcome = await ingestResults(pool, [kept, expired], context);

    expect(outcome.stored).toEqual([kept.resultId]);
    expect(outcome.dropped).toEqual([{ resultId: expired.resultId, reason: "expired" }]);
  });

  it("runs inside the caller's transaction: rolled back, nothing is stored", async () => {
    const context = ingestContext(pool);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      expect((await ingestResults(client, [makeResult()], context)).stored).toHaveLength(1);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect(await count("SELECT count(*) AS n FROM check_results")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM check_rollup_dirty")).toBe(0);
  });
});
