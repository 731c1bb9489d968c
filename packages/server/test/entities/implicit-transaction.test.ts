// Implicit transactions (no BEGIN, no COMMIT): round trips closed by Flush stay one transaction,
// committed by the one Sync, rolled back on any failure, with locks held across the round trips.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledInOrder, withImplicitTransaction } from "../../src/entities/index.ts";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";

let pool: pg.Pool;
/** Another session, to look at what the transaction has (not) committed and which locks it holds. */
let observer: pg.Pool;

beforeAll(async () => {
  const db = await createTestDatabase();
  // One connection: what one transaction leaves behind (prepared names, state) is what the next finds.
  pool = createPool(db.url, silentLogger(), { max: 1 });
  observer = createPool(db.url, silentLogger(), { max: 1 });
  await pool.query(`
    CREATE TABLE implicit_things (id text PRIMARY KEY, value integer NOT NULL);
    CREATE TABLE implicit_checked (id text PRIMARY KEY, other text,
      CONSTRAINT implicit_checked_other FOREIGN KEY (other) REFERENCES implicit_checked (id) DEFERRABLE INITIALLY DEFERRED)`);
});

afterAll(async () => {
  await Promise.all([pool?.end(), observer?.end()]);
});

const LOCK_KEY = 4242;

async function observe(): Promise<{ rows: number; lockFree: boolean }> {
  const { rows } = await observer.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'seen-%'");
  const { rows: locked } = await observer.query<{ free: boolean }>("SELECT pg_try_advisory_lock($1) AS free", [LOCK_KEY]);
  if (locked[0]!.free) await observer.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]);
  return { rows: rows[0]!.n, lockFree: locked[0]!.free };
}

/** The ReadyForQuery messages (one per Sync) the pool's one connection receives while `fn` runs. */
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

describe("withImplicitTransaction", () => {
  it("keeps round trips closed by Flush in one transaction, holding its lock, until its one Sync commits", async () => {
    const during: Array<{ rows: number; lockFree: boolean }> = [];
    const { value, syncs } = await countingSyncs(() =>
      withImplicitTransaction(pool, async (tx) => {
        const [, inserted] = await settledInOrder<[pg.QueryResult, pg.QueryResult]>([
          tx.client.query({ name: "implicit_test_lock", text: "SELECT pg_advisory_xact_lock($1::bigint)", values: [LOCK_KEY] }),
          tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2), ($3, $4)", ["seen-1", 1, "seen-2", 2]),
        ]);
        // Between the round trips: nothing visible elsewhere yet, the lock held.
        during.push(await observe());
        const { rows } = await tx.client.query<{ total: number }>("SELECT sum(value)::int AS total FROM implicit_things WHERE id = ANY($1)", [
          ["seen-1", "seen-2"],
        ]);
        during.push(await observe());
        tx.commit();
        return { inserted: inserted.rowCount, total: rows[0]!.total };
      }),
    );
    expect(value).toEqual({ inserted: 2, total: 3 });
    expect(during).toEqual([
      { rows: 0, lockFree: false },
      { rows: 0, lockFree: false },
    ]);
    expect(await observe()).toEqual({ rows: 2, lockFree: true });
    expect(syncs).toBe(1);
  });

  it("rolls back on a JavaScript error after its statements succeeded, and the connection stays usable", async () => {
    const failing = withImplicitTransaction(pool, async (tx) => {
      await tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["js-error", 1]);
      throw new Error("the new state is invalid");
    });
    await expect(failing).rejects.toThrow("the new state is invalid");
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id = 'js-error'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("fails the statement that failed with its own error and the ones behind it as skipped, commits nothing", async () => {
    const settled = await withImplicitTransaction(pool, async (tx) => {
      const outcomes = await Promise.allSettled([
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["failed-1", 1]),
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["failed-2", null]),
        tx.client.query({ name: "implicit_test_skipped", text: "SELECT value FROM implicit_things WHERE id = $1", values: ["seen-1"] }),
      ]);
      // A statement issued after the failure is not sent: the transaction is over.
      outcomes.push(...(await Promise.allSettled([tx.client.query("SELECT $1::int AS late", [1])])));
      throw Object.assign(new Error("outcomes"), { outcomes });
    }).catch((error: { outcomes: PromiseSettledResult<pg.QueryResult>[] }) => error.outcomes);
    expect(settled.map((outcome) => (outcome.status === "fulfilled" ? "ok" : (outcome.reason as { code?: string }).code))).toEqual([
      "ok",
      "23502",
      "25P02",
      "25P02",
    ]);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'failed-%'");
    expect(rows).toEqual([{ n: 0 }]);
    // The skipped statement's Parse never ran: the next transaction on this connection prepares it.
    const again = await withImplicitTransaction(pool, (tx) =>
      tx.client.query({ name: "implicit_test_skipped", text: "SELECT value FROM implicit_things WHERE id = $1", values: ["seen-1"] }),
    );
    expect(again.rows).toEqual([{ value: 1 }]);
  });

  it("rejects when the commit at the Sync fails (a deferred constraint), with nothing committed", async () => {
    const committing = withImplicitTransaction(pool, async (tx) => {
      const inserted = tx.client.query("INSERT INTO implicit_checked (id, other) VALUES ($1, $2)", ["dangling", "nobody"]);
      tx.commit();
      return inserted;
    });
    await expect(committing).rejects.toMatchObject({ code: "23503" });
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_checked");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("turns into a BEGIN block at a statement only the simple protocol carries, keeping what it did, and commits with COMMIT", async () => {
    const outcome = await withImplicitTransaction(pool, async (tx) => {
      await tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["turned-1", 1]);
      // Issued together: the simple-protocol statement waits for BEGIN's answer, the one behind it waits for it.
      const [, , counted] = await settledInOrder<[pg.QueryResult, pg.QueryResult, pg.QueryResult]>([
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ('turned-2', 2)"),
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["turned-3", 3]),
        tx.client.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE $1", ["turned-%"]),
      ]);
      const { rows: status } = await observer.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'turned-%'");
      return { inside: counted.rows[0]!.n, outside: status[0]!.n };
    });
    expect(outcome).toEqual({ inside: 3, outside: 0 });
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'turned-%'");
    expect(rows).toEqual([{ n: 3 }]);
  });

  it("rolls back what it did before turning into a BEGIN block when it fails after", async () => {
    const failing = withImplicitTransaction(pool, async (tx) => {
      await tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["turned-back-1", 1]);
      await tx.client.query("INSERT INTO implicit_things (id, value) VALUES ('turned-back-2', 2)");
      throw new Error("the new state is invalid");
    });
    await expect(failing).rejects.toThrow("the new state is invalid");
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'turned-back-%'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("never runs a simple-protocol statement outside the transaction when a statement before it failed", async () => {
    const outcomes = await withImplicitTransaction(pool, async (tx) => {
      const settled = await Promise.allSettled([
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ($1, $2)", ["unsent-1", null]),
        tx.client.query("INSERT INTO implicit_things (id, value) VALUES ('unsent-2', 2)"),
        new Promise((resolve, reject) =>
          tx.client.query("INSERT INTO implicit_things (id, value) VALUES ('unsent-3', 3)", (error: Error | null, result: unknown) =>
            error ? reject(error) : resolve(result),
          ),
        ),
      ]);
      throw Object.assign(new Error("outcomes"), { settled });
    }).catch((error: { settled: PromiseSettledResult<unknown>[] }) => error.settled);
    expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? "ok" : (outcome.reason as { code?: string }).code))).toEqual([
      "23502",
      "25P02",
      "25P02",
    ]);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM implicit_things WHERE id LIKE 'unsent-%'");
    expect(rows).toEqual([{ n: 0 }]);
  });
});
