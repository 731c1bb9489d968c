// A run's id is time-ordered (UUIDv7): it keys automation_runs, the run's steps and its
// run-status history, and ids made later sort after earlier ones, so those index inserts
// append instead of landing on random pages (storage/time-ordered-uuid.ts).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admitRuns, type RunDecisionRequest } from "../../../src/automations/runs/run-admission.ts";
import { withTransaction } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";

let pool: pg.Pool;
let automationId: string;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await createTestDatabase()).url, max: 2 });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('run-ids', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  automationId = rows[0]!.id;
});
afterAll(async () => {
  await pool?.end();
});

const request = (): RunDecisionRequest => ({
  key: { automationId, automationVersion: 1, triggerId: "t", triggerEvent: "satellite.connected", changeId: randomUUID() },
  policy: { mode: "parallel", maxRuns: 100 },
  contextKey: null,
  trigger: { event: "satellite.connected", triggerId: "t", payload: {}, forMs: null, change: null },
  verdicts: [],
});

const admittedIds = async (count: number): Promise<string[]> => {
  const decisions = await withTransaction(pool, (tx) => admitRuns(tx, Array.from({ length: count }, request)));
  return decisions.map((decision) => (decision.outcome === "run" ? decision.runId! : "skipped"));
};

const millisecondOf = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("run ids", () => {
  it("gives admitted runs time-ordered ids (version 7) that carry the millisecond they were decided in", async () => {
    const before = Date.now();
    const ids = await admittedIds(3);
    const after = Date.now();
    for (const id of ids) {
      expect(id[14]).toBe("7");
      expect(millisecondOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisecondOf(id)).toBeLessThanOrEqual(after);
    }
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM automation_runs WHERE id = ANY($1::uuid[])", [ids]);
    expect(rows[0]!.n).toBe(3);
  });
});
