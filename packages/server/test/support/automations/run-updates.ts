// Every UPDATE of a run, as the database saw it: a claim is one (pending → running, or
// running → running for a handed or resumed run), so a test can tell a run claimed from one
// opened without a claim.
import type pg from "pg";

/** Creates the log table and its trigger; run once per test database. */
export const LOG_RUN_UPDATES = `
  CREATE TABLE test_run_updates (seq bigserial, run_id uuid, old_status text, new_status text);
  CREATE FUNCTION test_log_run_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO test_run_updates (run_id, old_status, new_status) VALUES (NEW.id, OLD.status, NEW.status); RETURN NULL; END $$;
  CREATE TRIGGER test_log_run_update AFTER UPDATE ON automation_runs FOR EACH ROW EXECUTE FUNCTION test_log_run_update()`;

/** The run's logged status changes, oldest first ("old → new"). */
export async function runUpdates(pool: Pick<pg.Pool, "query">, runId: string): Promise<string[]> {
  const { rows } = await pool.query<{ change: string }>(
    "SELECT old_status || ' → ' || new_status AS change FROM test_run_updates WHERE run_id = $1 ORDER BY seq",
    [runId],
  );
  return rows.map((row) => row.change);
}
