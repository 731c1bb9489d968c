// A running system's past, so a bench measures the plans of a database that has been up for a
// while rather than those of a minute-old install.
//
// Why: a core prepares its statements once per connection and PostgreSQL settles on a generic
// plan after five runs. On a fresh cluster the run tables were never analyzed, so that plan is
// made for a table of "ten pages" (the planner's guess for a never-analyzed one) and batched
// updates by primary key (`FROM unnest(...) WHERE s.run_id = o.run_id`) come out as a hash join
// over a sequential scan. Autovacuum replans them once it has analyzed the tables, a minute in;
// a ten-second bench never gets there and pays a scan of the whole, growing table per batch
// (0.38 of 0.52 ms per step update at 2,100 rows; 2026-12-04, `--statement-stats`). Production
// tables hold days of runs and have statistics, and their plans use the indexes.
import type pg from "pg";
import { withTransaction } from "../packages/server/src/storage/index.ts";

/** The tables a run writes whose plans depend on their statistics. */
const RUN_TABLES = ["automation_runs", "automation_run_steps"] as const;

/**
 * Adds `count` finished runs (one succeeded webhook step each) of `automationId`, spread over the
 * past day, then analyzes the run tables. Inserted as a replica would (`session_replication_role`)
 * so the run tables' triggers record no changes: the history is old, nothing routes it.
 */
export async function seedRunHistory(pool: pg.Pool, automationId: string, count: number): Promise<void> {
  if (count <= 0) return;
  await withTransaction(
    pool,
    (client) =>
      client.query(
        `WITH seeded AS (
           INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger, created_at, started_at, finished_at)
           SELECT $1, 1, 'history', 'satellite.connected', gen_random_uuid(), 'succeeded', '{}'::jsonb, at, at, at + interval '20 milliseconds'
           FROM (SELECT now() - random() * interval '1 day' AS at FROM generate_series(1, $2)) past
           RETURNING id, started_at)
         INSERT INTO automation_run_steps (run_id, step_path, kind, status, input, output, attempts, started_at, finished_at)
         SELECT id, 'actions.0', 'webhook', 'succeeded', '{"url": "http://127.0.0.1/history", "body": {}}'::jsonb, '{"status": 200}'::jsonb, 1,
                started_at, started_at + interval '15 milliseconds'
         FROM seeded`,
        [automationId, count],
      ),
    { begin: "BEGIN; SET LOCAL session_replication_role = replica" },
  );
  // Analyzing also invalidates the plans cached so far, so every connection plans anew.
  await pool.query(`VACUUM ANALYZE ${RUN_TABLES.join(", ")}`);
}

/** The `--history` flag: how many past runs to seed (0: a fresh install). Exits on anything else. */
export function parseHistoryCount(flag: string | undefined): number {
  const count = Number(flag);
  if (!Number.isInteger(count) || count < 0) {
    console.error(`--history must be a whole number ≥ 0 (got "${flag}")`);
    process.exit(2);
  }
  return count;
}
