// Pipelined transactions: the statements issued in one tick travel as one batch with one Sync,
// each still gets its own result (or error), and order and atomicity hold.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { settledInOrder, withPipelinedTransaction } from "../../src/entities/index.ts";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";

let pool: pg.Pool;

beforeAll(async () => {
  const db = await createTestDatabase();
  // One connection: what one transaction leaves prepared is what the next one finds.
  pool = createPool(db.url, silentLogger(), { max: 1 });
  await pool.query("CREATE TABLE batch_things (id text PRIMARY KEY, value integer NOT NULL)");
});

afterAll(async () => {
  await pool?.end();
});

/** How many ReadyForQuery messages (one per Sync) the connection receives while `fn` runs. */
async function countingSyncs<T>(fn: () => Promise<T>): Promise<{ value: T; syncs: number }> {
  const client = await pool.connect();
  const connection = (client as unknown as { connection: { on(event: string, listener: () => void): void; off(event: string, listener: () => void): void } })
    .connection;
  client.release();
  let syncs = 0;
  const count = () => syncs++;
  connection.on("readyForQuery", count);
  try {
    return { value: await fn(), syncs };
  } finally {
    connection.off("readyForQuery", count);
  }
}

describe("withPipelinedTransaction", () => {
  it("answers each statement of a round trip on its own, behind one Sync per round trip", async () => {
    const { value, syncs } = await countingSyncs(() =>
      withPipelinedTransaction(pool, "BEGIN", (tx) =>
        settledInOrder<[pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult]>([
          tx.client.query("INSERT INTO batch_things (id, value) SELECT 'row-' || i, i FROM generate_series(1, $1::int) i", [3]),
          tx.client.query({ text: "SELECT id, value FROM batch_things WHERE value >= $1 ORDER BY id", values: [2] }),
          tx.client.query({ text: "SELECT value FROM batch_things WHERE id = $1", values: ["row-1"], rowMode: "array" }),
          tx.client.query({ name: "batch_test_count", text: "SELECT count(*)::int AS n FROM batch_things" }),
        ]),
      ),
    );
    const [inserted, selected, asArray, counted] = value;
    expect(inserted).toMatchObject({ command: "INSERT", rowCount: 3, rows: [] });
    expect(selected.rows).toEqual([
      { id: "row-2", value: 2 },
      { id: "row-3", value: 3 },
    ]);
    expect(asArray.rows).toEqual([[1]]);
    expect(counted.rows).toEqual([{ n: 3 }]);
    // [BEGIN and the four statements] and [COMMIT]: one Sync each, not one per statement.
    expect(syncs).toBe(2);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM batch_things");
    expect(rows).toEqual([{ n: 3 }]);
  });

  it("fails the statements behind a failed one as an aborted transaction would, and commits nothing", async () => {
    const outcomes = await withPipelinedTransaction(pool, "BEGIN", async (tx) => {
      const settled = await Promise.allSettled([
        tx.client.query("INSERT INTO batch_things (id, value) VALUES ($1, $2)", ["failed-1", 1]),
        tx.client.query("INSERT INTO batch_things (id, value) VALUES ($1, $2)", ["failed-2", null]),
        tx.client.query({ name: "batch_test_behind_failure", text: "SELECT value FROM batch_things WHERE id = $1", values: ["failed-1"] }),
      ]);
      return settled;
    }).catch((error: unknown) => error);
    // The transaction's COMMIT rolled back: the caller learns nothing was written.
    expect(outcomes).toBeInstanceOf(Error);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM batch_things WHERE id LIKE 'failed-%'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("rejects each statement of a failed round trip with its own reason", async () => {
    const reasons = await withPipelinedTransaction(pool, "BEGIN", async (tx) => {
      const settled = await Promise.allSettled([
        tx.client.query("SELECT $1::int AS one", [1]),
        tx.client.query("INSERT INTO batch_things (id, value) VALUES ($1, $2)", ["null-value", null]),
        tx.client.query({ name: "batch_test_skipped", text: "SELECT value FROM batch_things WHERE id = $1", values: ["row-1"] }),
      ]);
      throw Object.assign(new Error("outcomes"), { settled });
    }).catch((error: { settled: PromiseSettledResult<pg.QueryResult>[] }) => error.settled);
    expect(reasons[0]).toMatchObject({ status: "fulfilled", value: { rows: [{ one: 1 }] } });
    expect(reasons[1]).toMatchObject({ status: "rejected", reason: { code: "23502" } });
    expect(reasons[2]).toMatchObject({ status: "rejected", reason: { code: "25P02" } });
    // The skipped statement's Parse never ran: the next transaction on this connection prepares it.
    const { rows } = await withPipelinedTransaction(pool, "BEGIN", (tx) =>
      tx.client.query({ name: "batch_test_skipped", text: "SELECT value FROM batch_things WHERE id = $1", values: ["row-1"] }),
    );
    expect(rows).toEqual([{ value: 1 }]);
  });

  it("keeps issue order around statements that go by the simple protocol", async () => {
    const [, setting] = await withPipelinedTransaction(pool, "BEGIN", (tx) =>
      settledInOrder<[pg.QueryResult, pg.QueryResult]>([
        tx.client.query("SET LOCAL application_name = 'batched'"),
        tx.client.query("SELECT current_setting($1) AS name", ["application_name"]),
      ]),
    );
    expect(setting.rows).toEqual([{ name: "batched" }]);
  });
});

describe("a named statement that failed when it ran", () => {
  it("is not prepared twice: its next use on the connection fails or succeeds on its own merits", async () => {
    const insert = { name: "batch_test_failed_once", text: "INSERT INTO batch_things (id, value) VALUES ($1, $2)" };
    const first = withPipelinedTransaction(pool, "BEGIN", (tx) => tx.client.query({ ...insert, values: ["once", null] }));
    await expect(first).rejects.toMatchObject({ code: "23502" });
    const { rowCount } = await withPipelinedTransaction(pool, "BEGIN", (tx) => tx.client.query({ ...insert, values: ["once", 1] }));
    expect(rowCount).toBe(1);
  });
});

describe("a named statement the connection has prepared", () => {
  /** How many Describe messages the pool's one connection sends while `fn` runs. */
  async function countingDescribes<T>(fn: () => Promise<T>): Promise<{ value: T; describes: number }> {
    const client = await pool.connect();
    const connection = (client as unknown as { connection: { describe(...args: unknown[]): void } }).connection;
    client.release();
    const describe = vi.spyOn(connection, "describe");
    try {
      return { value: await fn(), describes: describe.mock.calls.length };
    } finally {
      describe.mockRestore();
    }
  }

  const readAndWrite = () =>
    withPipelinedTransaction(pool, "BEGIN", (tx) =>
      settledInOrder<[pg.QueryResult, pg.QueryResult]>([
        tx.client.query({ name: "batch_test_described_write", text: "UPDATE batch_things SET value = value + 1 WHERE id = $1", values: ["described"] }),
        tx.client.query({
          name: "batch_test_described_read",
          text: "SELECT value, now() - now() AS zero, ARRAY[value] AS values FROM batch_things WHERE id = $1",
          values: ["described"],
        }),
      ]),
    );

  it("is described once: later rows are parsed by what its first answer described", async () => {
    await pool.query("INSERT INTO batch_things (id, value) VALUES ('described', 0)");
    const first = await countingDescribes(readAndWrite);
    const second = await countingDescribes(readAndWrite);
    // The write and the read described the first time (BEGIN and COMMIT too, unless an earlier
    // test's transaction did), nothing the second.
    expect(first.describes).toBeGreaterThanOrEqual(2);
    expect(second.describes).toBe(0);
    const [firstWrite, firstRead] = first.value;
    const [secondWrite, secondRead] = second.value;
    expect([firstWrite.command, firstWrite.rowCount, firstWrite.rows]).toEqual(["UPDATE", 1, []]);
    expect([secondWrite.command, secondWrite.rowCount, secondWrite.rows]).toEqual(["UPDATE", 1, []]);
    expect(firstRead.rows).toEqual([{ value: 1, zero: expect.anything(), values: [1] }]);
    expect(secondRead.rows).toEqual([{ value: 2, zero: expect.anything(), values: [2] }]);
    expect(secondRead.fields.map((field) => field.name)).toEqual(["value", "zero", "values"]);
  });
});
