// Satellites named by id are found through the primary key, however small the planner believes
// satellites_expiring (the connected ones) to be. The database here was analyzed while its fleet
// was away, and a thousand satellites have connected since — a fleet reconnecting before
// autovacuum analyzes again: storage/found-by-key.ts says why a plain `= 'connected'` test then
// reads every connected satellite's entry, per heartbeat flush and per loss.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log.ts";
import { createHeartbeatBuffer } from "../../../src/satellites/connection/heartbeat-buffer.ts";
import { MARK_HEARTBEAT_LOST, MARK_HEARTBEAT_LOST_MANY } from "../../../src/satellites/connection/service.ts";
import { createTestDatabase } from "../../support/database.ts";
import { expectKeyedReads, planningClient, plannedReads, type TableReads } from "../../support/query-plans.ts";

const AWAY = 3000;
const RECONNECTED = 1000;

let pool: pg.Pool;
let connected: Array<{ id: string; session: string }>;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await createTestDatabase()).url, max: 2 });
  await pool.query(
    `INSERT INTO satellites (name, region, token_hash, last_connection_event)
     SELECT 'lookups-' || g, 'test', 'unused', 'disconnected' FROM generate_series(1, $1) AS g`,
    [AWAY],
  );
  await pool.query("VACUUM ANALYZE satellites");
  const { rows } = await pool.query<{ id: string; session: string }>(
    `UPDATE satellites SET last_connection_event = 'connected', last_heartbeat_at = now(), offline_at = now() + interval '1 minute',
       session_id = gen_random_uuid()
     WHERE id IN (SELECT id FROM satellites ORDER BY name LIMIT $1) RETURNING id::text, session_id::text AS session`,
    [RECONNECTED],
  );
  connected = rows;
});
afterAll(async () => {
  await pool?.end();
});

const reads = (text: string, values: readonly unknown[]) => plannedReads(pool, "satellites", text, values);
const neverThroughExpiring = (planned: TableReads) => expectKeyedReads(planned, ["satellites_expiring"], "satellites_pkey");

describe("looking satellites up by id while the statistics know of none connected", () => {
  it("is the trap it guards against: a plain test of the connected state reads satellites_expiring", async () => {
    const planned = await reads("SELECT 1 FROM satellites WHERE id = $1 AND last_connection_event = 'connected'", [connected[0]!.id]);
    expect(planned).toEqual({ custom: ["satellites_expiring"], generic: ["satellites_expiring"] });
  });

  it("flushes a batch of heartbeats never through satellites_expiring", async () => {
    const planning = planningClient(pool, "satellites");
    const buffer = createHeartbeatBuffer({ pool: planning.client, satellites: { markRecovered: async () => undefined } as never, logger: silentLogger() });
    for (const { id, session } of connected.slice(0, 200)) buffer.record(id, session);
    await buffer.flush();
    expect(planning.reads).toHaveLength(1);
    neverThroughExpiring(planning.reads[0]!);
  });

  it("records lost heartbeats, one and a batch, never through satellites_expiring", async () => {
    const now = new Date();
    neverThroughExpiring(await reads(MARK_HEARTBEAT_LOST, [connected[1]!.id, now, 3000]));
    neverThroughExpiring(await reads(MARK_HEARTBEAT_LOST_MANY, [connected.slice(0, 200).map((c) => c.id), now, 3000]));
    neverThroughExpiring(await reads(MARK_HEARTBEAT_LOST_MANY, [[randomUUID()], now, 3000]));
  });
});
