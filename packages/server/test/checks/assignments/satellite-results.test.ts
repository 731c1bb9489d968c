// Results from satellites through the real gateway into the real batched ingest: a satellite
// replaying its buffer is stored in a few statements, not one round trip per result, each
// result acknowledged only after the transaction that stored it committed, as its own location's.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type CheckResults, startCheckResults } from "../../../src/checks/results/start-check-results.ts";
import { silentLogger } from "../../../src/log.ts";
import { MAX_RESULTS_IN_FLIGHT } from "../../../src/satellites/gateway/satellite-connection.ts";
import { afterNotices, saveCheck, satelliteCheck } from "../../support/checks/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite } from "../../support/satellites/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellites/satellite-core.ts";
import { statementsSent, textOf } from "../../support/query-text.ts";

let core: SatelliteCore;
let results: CheckResults;
/** Each batch's transaction waits for this before it commits. */
let commitGate: Promise<void> = Promise.resolve();
let batchSizes: number[] = [];

beforeAll(async () => {
  const url = (await createTestDatabase()).url;
  core = await startSatelliteCore(url, "satellite-results", { monitor: false, assignments: true, submitResult: (result) => results.ingest.submit(result) });
  results = startCheckResults({
    pool: core.pool,
    logger: silentLogger(),
    ingest: {
      inTransaction: async (_tx, batch) => {
        batchSizes.push(batch.length);
        await commitGate;
      },
    },
  });
});

afterAll(async () => {
  await results?.stop();
  await core?.stop();
});

/** A satellite in a region of its own with one check assigned, connected. */
async function connectWithCheck(region: string) {
  const check = await afterNotices([core], () => saveCheck(core.pool, satelliteCheck(`results-${region}`, { regions: [region] })));
  const credentials = await core.createSatellite({ region });
  const { satellite, welcome } = await connectFakeSatellite(core.url, credentials);
  expect(welcome.assignments.map((assignment) => assignment.checkId)).toEqual([check.id]);
  return { satellite, satelliteId: credentials.satelliteId, checkId: check.id };
}

async function storedCount(resultIds: readonly string[]): Promise<number> {
  const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM check_results WHERE result_id = ANY($1::uuid[])", [resultIds]);
  return rows[0]!.n;
}

describe("results from a satellite", () => {
  it("replayed 1,000 at once are stored in a few statements and all acknowledged, under the satellite's location", async () => {
    const { satellite, satelliteId, checkId } = await connectWithCheck("replay");
    batchSizes = [];
    const startedAt = Date.now() - 60_000;
    const spy = vi.spyOn(pg.Client.prototype, "query");
    const acked = new Set<string>();
    const sent = Array.from({ length: 1_000 }, (_, i) => satellite.result(checkId, { startedAt: new Date(startedAt + i).toISOString() }).resultId);
    let inserts = 0;
    try {
      while (acked.size < sent.length) for (const id of (await satellite.next("ack")).resultIds) acked.add(id);
    } finally {
      // Restoring forgets the calls: count them first.
      inserts = statementsSent(spy.mock.calls).filter((query) => textOf(query).includes("INSERT INTO check_results")).length;
      spy.mockRestore();
    }
    expect([...acked].sort()).toEqual([...sent].sort());
    expect(inserts).toBe(batchSizes.length);
    // Batched, not one round trip per result. How many batches depends on how fast frames arrive
    // against how fast batches commit, so only the order of magnitude is asserted.
    expect(inserts).toBeLessThan(sent.length / 10);
    // Bounded per socket: no more than the bound is ever in the sink at once (frames read after it
    // was reached wait in the connection). Without the bound a batch would hold all 1,000.
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(MAX_RESULTS_IN_FLIGHT);
    const { rows } = await core.pool.query<{ n: number; locations: string[] }>(
      "SELECT count(*)::int AS n, array_agg(DISTINCT location) AS locations FROM check_results WHERE result_id = ANY($1::uuid[])",
      [sent],
    );
    expect(rows[0]).toEqual({ n: 1_000, locations: [satelliteId] });
    await satellite.close();
  });

  it("are acknowledged only once the transaction that stored them committed", async () => {
    const { satellite, checkId } = await connectWithCheck("held");
    let commit!: () => void;
    commitGate = new Promise<void>((resolve) => (commit = resolve));
    batchSizes = [];
    const sent = [satellite.result(checkId).resultId, satellite.result(checkId).resultId];
    await vi.waitUntil(() => batchSizes.reduce((sum, size) => sum + size, 0) === 2, { timeout: 10_000, interval: 5 });
    // Inserted, not committed: nothing is visible elsewhere, and nothing is acknowledged.
    expect(await storedCount(sent)).toBe(0);
    satellite.send({ type: "barrier" });
    await satellite.next("error");
    expect(satellite.received.filter((frame) => frame.type === "ack")).toEqual([]);

    commit();
    commitGate = Promise.resolve();
    const acked = new Set<string>();
    while (acked.size < 2) for (const id of (await satellite.next("ack")).resultIds) acked.add(id);
    expect([...acked].sort()).toEqual([...sent].sort());
    expect(await storedCount(sent)).toBe(2);
    await satellite.close();
  });

  it("of a check not assigned to it are rejected and counted, and never stored", async () => {
    const { satellite } = await connectWithCheck("foreign");
    const sent = satellite.result(randomUUID());
    expect(await satellite.next("error")).toMatchObject({ code: "unassigned_check" });
    await results.ingest.flush();
    expect(await storedCount([sent.resultId])).toBe(0);
    const dropped = await core.metrics.getSingleMetric("vantage_satellite_results_dropped_total")!.get();
    expect(dropped.values.find((value) => value.labels.reason === "unassigned")?.value).toBe(1);
    await satellite.close();
  });
});
