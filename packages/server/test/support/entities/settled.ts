// The outbox reads (router, GET /changes, the live stream) stop before the oldest transaction
// still in flight anywhere in the cluster: xids are cluster-wide, so a test file running in
// parallel on another database can hold a just-committed change back for a moment. A test that
// reads the outbox right after writing waits for its changes to settle first.
import type pg from "pg";
import { vi } from "vitest";

const UNSETTLED = `
  SELECT count(*)::int AS n FROM entity_changes
  WHERE seq = ANY($1::bigint[]) AND NOT xid < pg_snapshot_xmin(pg_current_snapshot())`;

/** Resolves once every change with these seqs is settled: older than every transaction still in flight. */
export async function untilSettled(pool: pg.Pool, seqs: readonly number[]): Promise<void> {
  await vi.waitUntil(async () => (await pool.query<{ n: number }>(UNSETTLED, [seqs])).rows[0]!.n === 0, { timeout: 10_000, interval: 20 });
}
