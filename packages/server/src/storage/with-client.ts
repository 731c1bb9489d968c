// One short-lived connection for a few statements outside any pool (creating a database,
// dropping test databases), with the error handler every connection must have.
import pg from "pg";

/** Connects to `url`, runs `fn`, and always ends the connection. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // A connection that drops while idle emits `error`; unhandled, that would end the process.
  // The statement in flight (if any) rejects with the same error, so nothing is lost here.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
