// The `automation-run-status` changes recorded per statement (migration 0033) are exactly what
// the per-row trigger of migration 0031 recorded for the same writes: the same outbox rows in the
// same order, the same transitions; batches, redeliveries and writes that change no field included.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { MIGRATIONS_DIR } from "../../../src/storage/migrate.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;
let automationId: string;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "run-entity-trigger", max: 2 });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('runs', '{"name":"runs","triggers":[],"actions":[]}', '{}') RETURNING id`,
  );
  automationId = rows[0]!.id;
});

afterAll(async () => {
  await pool?.end();
});

const RUN_IDS = ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"];
const CHANGE_IDS = ["10000000-0000-4000-8000-00000000000a", "10000000-0000-4000-8000-00000000000b", "10000000-0000-4000-8000-00000000000c"];
const [a, b, c] = RUN_IDS;

// Three runs admitted in one statement (a router batch), then the same again (a redelivery),
// claims and ends of several runs per statement (a run session's batch), a claim that resumes
// a running run, an update of a field the state does not show, and one that matches nothing.
async function writeRuns(client: pg.PoolClient): Promise<void> {
  await client.query(
    `INSERT INTO automation_runs (id, automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, status, trigger, created_at)
     SELECT id, $1, 1, 't', 'satellite.heartbeat_lost', change_id, id::text, status, '{}', '2026-12-03T05:00:00.000Z'::timestamptz + make_interval(secs => ord)
     FROM unnest($2::uuid[], $3::uuid[], $4::text[]) WITH ORDINALITY AS r(id, change_id, status, ord)
     ON CONFLICT DO NOTHING`,
    [automationId, RUN_IDS, CHANGE_IDS, ["pending", "pending", "queued"]],
  );
  await client.query(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, status, trigger)
     SELECT $1, 1, 't', 'satellite.heartbeat_lost', change_id, 'pending', '{}' FROM unnest($2::uuid[]) AS change_id
     ON CONFLICT DO NOTHING`,
    [automationId, CHANGE_IDS],
  );
  await client.query("UPDATE automation_runs SET status = 'running', started_at = '2026-12-03T05:01:00.000Z' WHERE id = ANY($1::uuid[])", [[a, b]]);
  await client.query("UPDATE automation_runs SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1", [a]);
  await client.query('UPDATE automation_runs SET verdicts = \'[{"path":"conditions.0","passed":true}]\' WHERE id = $1', [c]);
  await client.query(
    `UPDATE automation_runs r SET status = e.status, error = e.error, finished_at = '2026-12-03T05:02:00.000Z'
     FROM unnest($1::uuid[], $2::text[], $3::text[]) AS e(id, status, error) WHERE r.id = e.id`,
    [
      [a, b],
      ["failed", "succeeded"],
      ["step actions.0 failed", null],
    ],
  );
  await client.query("UPDATE automation_runs SET status = 'pending' WHERE id = $1", [c]);
  await client.query("UPDATE automation_runs SET status = 'cancelled' WHERE id = $1 AND status = 'running'", [c]);
}

/** Migration 0031's per-row trigger, diffing the state as it is now (not 0031's state function). */
async function perRowTrigger(): Promise<string> {
  const migration = await readFile(path.join(MIGRATIONS_DIR, "0031-automation-run-entity.sql"), "utf8");
  return migration.slice(migration.indexOf("CREATE OR REPLACE FUNCTION vantage_record_automation_run_change()"));
}

/** What writeRuns recorded (everything but seqs, change ids and times), in seq order; rolled back afterwards. */
async function recordedBy(install?: string): Promise<{ changes: unknown[]; transitions: unknown[] }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    if (install) await client.query(install);
    await writeRuns(client);
    const { rows: changes } = await client.query(
      `SELECT kind, entity_id, prev, next, delta, changed_fields, actor, cause FROM entity_changes
       WHERE kind = 'automation-run-status' ORDER BY seq`,
    );
    const { rows: transitions } = await client.query(
      `SELECT t.entity_id, t.field, t.from_value, t.to_value, t.occurred_at = c.occurred_at AS stamped_with_change
       FROM entity_transitions t JOIN entity_changes c ON c.seq = t.seq
       WHERE t.kind = 'automation-run-status' ORDER BY t.seq, t.field`,
    );
    return { changes, transitions };
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

describe("automation-run-status changes recorded per statement", () => {
  it("records what the per-row trigger of migration 0031 recorded for the same writes", async () => {
    const perRow = `
      DROP TRIGGER automation_runs_created_entity_changes ON automation_runs;
      DROP TRIGGER automation_runs_updated_entity_changes ON automation_runs;
      ${await perRowTrigger()}`;
    const before = await recordedBy(perRow);
    const now = await recordedBy();

    expect(now).toEqual(before);
    // And what that is: a change per run created, claimed and ended (the rows of one statement in
    // the order it updated them), none for the redelivery, the resumed claim or the verdicts.
    const fields = now.changes.map((change) => {
      const { entity_id: id, changed_fields: changed } = change as { entity_id: string; changed_fields: string[] };
      return [id, changed];
    });
    const created = ["status", "triggerChangeId", "triggerEvent"];
    const byId = (rows: unknown[][]) => [...rows].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(fields.slice(0, 3)).toEqual([a, b, c].map((id) => [id, created]));
    expect(byId(fields.slice(3, 5))).toEqual([a, b].map((id) => [id, ["status"]]));
    expect(byId(fields.slice(5, 7))).toEqual([
      [a, ["error", "status"]],
      [b, ["status"]],
    ]);
    expect(fields.slice(7)).toEqual([[c, ["status"]]]);
    expect(now.transitions).toHaveLength(3 * 3 + 2 * 1 + 2 + 1 + 1);
    expect(now.transitions.every((transition) => (transition as { stamped_with_change: boolean }).stamped_with_change)).toBe(true);
  });

  it("records nothing, and does not fail, for an update that matches no run", async () => {
    const { rowCount } = await pool.query("UPDATE automation_runs SET status = 'running' WHERE id = $1", ["00000000-0000-4000-8000-0000000000ff"]);
    expect(rowCount).toBe(0);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM entity_changes WHERE kind = 'automation-run-status'");
    expect(rows[0]).toEqual({ n: 0 });
  });
});
