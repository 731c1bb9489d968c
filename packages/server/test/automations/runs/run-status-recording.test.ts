// The `automation-run-status` triggers record with one statement per call (migration 0037): the
// trigger function's own, with no function of a chain behind it to plan and run. (What they
// record is run-entity-trigger.test.ts's: the same as the per-row trigger of migration 0031.)
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;

beforeAll(async () => {
  const { url } = await createTestDatabase();
  pool = createPool(url, silentLogger(), { applicationName: "run-status-recording", max: 2 });
});

afterAll(async () => {
  await pool?.end();
});

describe("automation-run-status recording", () => {
  it("calls no function but the trigger's for a batch of runs created, claimed, and an update of none", async () => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      // 'all': SQL-language functions that are not inlined count too.
      await client.query("SET LOCAL track_functions = 'all'");
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO automations (name, definition, trigger_events) VALUES ('recording', '{"mode": "parallel"}', '{}') RETURNING id`,
      );
      await client.query(
        `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger)
         SELECT $1, 1, 't', 'satellite.heartbeat_lost', gen_random_uuid(), '{}' FROM generate_series(1, 2)`,
        [rows[0]!.id],
      );
      await client.query("UPDATE automation_runs SET status = 'running' WHERE automation_id = $1", [rows[0]!.id]);
      await client.query("UPDATE automation_runs SET status = 'pending' WHERE automation_id = $1 AND false", [rows[0]!.id]);
      const { rows: calls } = await client.query<{ funcname: string; calls: number }>(
        "SELECT funcname, calls::int FROM pg_stat_xact_user_functions WHERE funcname LIKE 'vantage_record_%' ORDER BY funcname",
      );
      const { rows: recorded } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes WHERE kind = 'automation-run-status'");
      await client.query("ROLLBACK");
      expect(calls).toEqual([
        { funcname: "vantage_record_created_automation_runs", calls: 1 },
        { funcname: "vantage_record_updated_automation_runs", calls: 2 },
      ]);
      expect(recorded).toEqual([{ n: 4 }]);
    } finally {
      client.release();
    }
  });
});
