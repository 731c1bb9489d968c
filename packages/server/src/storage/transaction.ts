// Runs a function in one transaction on a pooled client: COMMIT on success, ROLLBACK on
// any error. A client whose connection broke is destroyed instead of returned.
import type pg from "pg";

export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, options: { begin?: string } = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // `begin` lets a caller fold its first statements into BEGIN's round trip.
    await client.query(options.begin ?? "BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * `fn` in the caller's transaction when it passes one (the caller commits, and runs whatever
 * must follow the commit), else in a transaction of its own: how a store joins an outer one.
 */
export async function inTransaction<T>(pool: pg.Pool, tx: pg.PoolClient | undefined, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return tx ? fn(tx) : withTransaction(pool, fn);
}
