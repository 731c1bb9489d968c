// Cuts one instance's notification connection (its hub's own: LISTEN, and since the hub also
// sends the instance's NOTIFYs, pg_notify) while the rest of its pool keeps working — how
// tests make a core miss notices and prove it catches up once it listens again.
import type pg from "pg";

const HUB_QUERIES = "(query ILIKE 'LISTEN%' OR query ILIKE 'UNLISTEN%' OR query = 'SELECT pg_notify($1, $2)')";

/** Terminates the notification connection of the instance whose pool uses `applicationName`; answers how many it ended. */
export async function killNotificationConnection(db: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ${HUB_QUERIES}`,
    [applicationName],
  );
  return rows[0]!.n;
}
