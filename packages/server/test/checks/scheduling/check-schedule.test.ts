// The core location's schedule in SQL: the triggers keep it in step with the checks (random first
// offsets, disable, delete, interval changes), claims are exclusive across pools, and a claimed
// check's next slot is a whole interval on and never before its run's deadline.
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLAIM_DUE, claimDueRuns, NEXT_DUE_IN, nextDueIn } from "../../../src/checks/scheduling/check-schedule.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { insertCheck, insertChecks } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";

let url: string;
let pool: pg.Pool;

beforeEach(async () => {
  url = (await createTestDatabase()).url;
  pool = createPool(url, silentLogger(), { max: 4 });
});

afterEach(async () => {
  await pool.end();
});

interface ScheduleRow {
  check_id: string;
  next_run_at: Date | null;
  claimed_at: Date | null;
  run_deadline: Date | null;
}

async function scheduleOf(checkId: string): Promise<ScheduleRow | undefined> {
  return (await pool.query<ScheduleRow>("SELECT check_id, next_run_at, claimed_at, run_deadline FROM check_schedule WHERE check_id = $1", [checkId])).rows[0];
}

/** The check's slot, cut to whole milliseconds (PostgreSQL keeps microseconds) so times compare exactly. */
async function slotOf(checkId: string): Promise<number> {
  const { rows } = await pool.query<{ next_run_at: Date }>(
    "UPDATE check_schedule SET next_run_at = date_trunc('milliseconds', next_run_at) WHERE check_id = $1 RETURNING next_run_at",
    [checkId],
  );
  return rows[0]!.next_run_at.getTime();
}

async function databaseNow(): Promise<number> {
  return (await pool.query<{ now: Date }>("SELECT now()")).rows[0]!.now.getTime();
}

const claim = (db: pg.Pool, at: number, limit = 1_000, claimedBy = "test-core") => claimDueRuns(db, { limit, claimedBy, aheadMs: 0, at: new Date(at) });

describe("the schedule follows the checks", () => {
  it("gives every core check a first slot at a random offset within its interval", async () => {
    const before = await databaseNow();
    const ids = await insertChecks(pool, 200, { intervalSeconds: 60 });
    const after = await databaseNow();
    const offsets = await Promise.all(ids.map(async (id) => (await scheduleOf(id))!.next_run_at!.getTime()));
    for (const at of offsets) {
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThan(after + 60_000);
    }
    // Spread over the interval: each quarter holds some (all 200 in one quarter: 4 × 0.25^200).
    const quarters = [0, 0, 0, 0];
    for (const at of offsets) quarters[Math.min(3, Math.floor((at - before) / 15_000))]! += 1;
    expect(quarters.every((count) => count >= 20)).toBe(true);
  });

  it("schedules nothing for a check that runs only on satellites or is disabled", async () => {
    const satellitesOnly = await insertCheck(pool, { runOn: { satellites: { regions: ["eu"] } } });
    const disabled = await insertCheck(pool, { enabled: false });
    expect(await scheduleOf(satellitesOnly)).toBeUndefined();
    expect(await scheduleOf(disabled)).toBeUndefined();
    expect(await nextDueIn(pool)).toBeNull();
  });

  it("unschedules a disabled check, schedules it again when enabled, and drops it when deleted", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 30 });
    await pool.query("UPDATE checks SET enabled = false WHERE id = $1", [id]);
    expect((await scheduleOf(id))!.next_run_at).toBeNull();
    expect(await claim(pool, Date.now() + 3_600_000)).toEqual([]);

    await pool.query("UPDATE checks SET enabled = true WHERE id = $1", [id]);
    expect((await scheduleOf(id))!.next_run_at!.getTime()).toBeLessThan((await databaseNow()) + 30_000);

    await pool.query("UPDATE checks SET run_on_core = false WHERE id = $1", [id]);
    expect((await scheduleOf(id))!.next_run_at).toBeNull();

    await pool.query("DELETE FROM checks WHERE id = $1", [id]);
    expect(await scheduleOf(id)).toBeUndefined();
  });

  it("does not move a slot when other fields of the check change", async () => {
    const id = await insertCheck(pool);
    const before = await scheduleOf(id);
    await pool.query("UPDATE checks SET name = name || '-renamed', timeout_ms = 5000, enabled = true, revision = revision + 1 WHERE id = $1", [id]);
    expect(await scheduleOf(id)).toEqual(before);
  });

  it("pulls the slot in when the interval shrinks, one new interval after the last run", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 3_600, timeoutMs: 5_000 });
    const at = Date.now() + 3_600_000;
    expect(await claim(pool, at)).toHaveLength(1);
    await pool.query("UPDATE checks SET interval_seconds = 10 WHERE id = $1", [id]);
    const row = (await scheduleOf(id))!;
    expect(row.next_run_at!.getTime()).toBe(row.claimed_at!.getTime() + 10_000);
  });

  it("never schedules a re-enabled check before the last run's deadline", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10, timeoutMs: 10_000 });
    const at = (await databaseNow()) + 10_000;
    expect(await claim(pool, at)).toHaveLength(1);
    await pool.query("UPDATE checks SET enabled = false WHERE id = $1", [id]);
    await pool.query("UPDATE checks SET enabled = true WHERE id = $1", [id]);
    const row = (await scheduleOf(id))!;
    expect(row.run_deadline!.getTime()).toBe(at + 10_000);
    expect(row.next_run_at!.getTime()).toBeGreaterThanOrEqual(at + 10_000);
  });
});

describe("claiming due runs", () => {
  it("claims only what is due, moving each to the next slot of its grid", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10, timeoutMs: 2_000 });
    const slot = await slotOf(id);
    expect(await claim(pool, slot - 1)).toEqual([]);

    const [run] = await claim(pool, slot + 250);
    expect(run).toMatchObject({ checkId: id, type: "http", revision: 1, lateMs: 250, startsInMs: 0, timeoutMs: 2_000 });
    expect(run!.dueAt.getTime()).toBe(slot);
    expect(run!.definition).toMatchObject({ type: "http", url: "http://127.0.0.1:9/", intervalSeconds: 10 });
    expect((await scheduleOf(id))!.next_run_at!.getTime()).toBe(slot + 10_000);
    expect(await claim(pool, slot + 9_999)).toEqual([]);
  });

  it("skips the slots missed while no core ran, rather than catching up on them", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10, timeoutMs: 1_000 });
    const slot = await slotOf(id);
    expect(await claim(pool, slot + 35_000)).toHaveLength(1);
    expect((await scheduleOf(id))!.next_run_at!.getTime()).toBe(slot + 40_000);
    expect(await claim(pool, slot + 39_000)).toEqual([]);
  });

  it("never sets the next slot before the claimed run's deadline", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10, timeoutMs: 10_000 });
    const slot = await slotOf(id);
    // Claimed 3 s late: the run may last until slot + 13 s, past the grid's next slot.
    expect(await claim(pool, slot + 3_000)).toHaveLength(1);
    const row = (await scheduleOf(id))!;
    expect(row.run_deadline!.getTime()).toBe(slot + 13_000);
    expect(row.next_run_at!.getTime()).toBe(slot + 13_000);
  });

  it("claims slots due within the look-ahead and says when each starts", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10, timeoutMs: 1_000 });
    const slot = await slotOf(id);
    const [run] = await claimDueRuns(pool, { limit: 10, claimedBy: "test-core", aheadMs: 300, at: new Date(slot - 200) });
    expect(run).toMatchObject({ checkId: id, lateMs: 0, startsInMs: 200 });
    const row = (await scheduleOf(id))!;
    expect(row.claimed_at!.getTime()).toBe(slot);
    expect(row.next_run_at!.getTime()).toBe(slot + 10_000);
  });

  it("gives each due run to exactly one of two pools claiming at once", async () => {
    const other = createPool(url, silentLogger(), { max: 4 });
    try {
      const ids = await insertChecks(pool, 300, { intervalSeconds: 60, timeoutMs: 1_000 });
      const at = Date.now() + 60_000;
      const claimedBy = new Map<string, string[]>();
      const claimOnce = async (db: pg.Pool, name: string) => {
        const runs = await claim(db, at, 20, name);
        for (const run of runs) claimedBy.set(run.checkId, [...(claimedBy.get(run.checkId) ?? []), name]);
        return runs.length;
      };
      const drain = async (db: pg.Pool, name: string) => {
        while ((await claimOnce(db, name)) > 0);
      };
      // One batch each, then both pools, two connections each, claim against each other.
      expect(await claimOnce(pool, "a")).toBe(20);
      expect(await claimOnce(other, "b")).toBe(20);
      await Promise.all([drain(pool, "a"), drain(other, "b"), drain(pool, "a"), drain(other, "b")]);
      expect([...claimedBy.keys()].sort()).toEqual([...ids].sort());
      expect([...claimedBy.values()].every((by) => by.length === 1)).toBe(true);
    } finally {
      await other.end();
    }
  });

  it("finds due runs and the earliest slot through the schedule's index", async () => {
    await pool.query(`
      INSERT INTO checks (name, type, interval_seconds, timeout_ms, run_on_core, definition)
      SELECT 'bulk-' || n, 'http', 60, 1000, true, '{}' FROM generate_series(1, 5000) AS n`);
    await pool.query("ANALYZE checks, check_schedule");
    const plan = async (sql: string, params: unknown[]) =>
      (await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params)).rows.map((row) => row["QUERY PLAN"]).join("\n");
    const claimPlan = await plan(CLAIM_DUE, [null, 100, "test-core", 250]);
    expect(claimPlan).toMatch(/Index (Only )?Scan on check_schedule_due|Index Scan using check_schedule_due/);
    expect(claimPlan).toMatch(/checks_pkey/);
    expect(claimPlan).not.toMatch(/Seq Scan/);
    const earliestPlan = await plan(NEXT_DUE_IN, [null]);
    expect(earliestPlan).toMatch(/Index Only Scan using check_schedule_due/);
    expect(earliestPlan).not.toMatch(/Seq Scan/);
    // Both are named statements: after a few runs PostgreSQL may keep a generic plan, which
    // must serve them from the same indexes.
    const genericClaimPlan = await plan(`(GENERIC_PLAN) ${CLAIM_DUE}`, []);
    expect(genericClaimPlan).toMatch(/Index (Only )?Scan on check_schedule_due|Index Scan using check_schedule_due/);
    expect(genericClaimPlan).toMatch(/checks_pkey/);
    expect(genericClaimPlan).not.toMatch(/Seq Scan/);
    expect(await plan(`(GENERIC_PLAN) ${NEXT_DUE_IN}`, [])).toMatch(/Index Only Scan using check_schedule_due/);
  });

  it("says how long until the earliest slot, on the schedule's clock", async () => {
    const id = await insertCheck(pool, { intervalSeconds: 10 });
    const slot = await slotOf(id);
    expect(await nextDueIn(pool, new Date(slot - 1_500))).toBe(1_500);
    expect(await nextDueIn(pool, new Date(slot + 500))).toBe(-500);
  });
});
