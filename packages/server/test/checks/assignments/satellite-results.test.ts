// Results from satellites through the real gateway into a batching ingest: a satellite
// replaying its buffer is stored in a few statements, not one round trip per result, each
// result acknowledged only after the statement that stored it committed, as its own location's.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubmittedResult } from "../../../src/checks/assignments/satellite-result-sink.ts";
import { MAX_RESULTS_IN_FLIGHT } from "../../../src/satellites/gateway/satellite-connection.ts";
import { afterNotices, saveCheck, satelliteCheck } from "../../support/check-rows.ts";
import { createTestDatabase } from "../../support/database.ts";
import { connectFakeSatellite } from "../../support/fake-satellite.ts";
import { type SatelliteCore, startSatelliteCore } from "../../support/satellite-core.ts";

/**
 * A stand-in for the results module's ingest (`createResultIngest`): submits coalesce for a
 * few milliseconds into one INSERT … SELECT FROM unnest, and settle once it committed. It
 * counts its statements and how many submits it held at once.
 */
function createTestIngest(core: () => SatelliteCore) {
  let pending: Array<{ result: SubmittedResult; resolve: () => void; reject: (error: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  let hold: Promise<void> = Promise.resolve();
  const ingest = {
    statements: 0,
    maxPending: 0,
    pending: () => pending.length,
    /** Batches wait for `until` before they are written. */
    holdUntil(until: Promise<void>) {
      hold = until;
    },
    submit(result: SubmittedResult): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ result, resolve, reject });
        ingest.maxPending = Math.max(ingest.maxPending, pending.length);
        timer ??= setTimeout(() => void flush(), 5);
      });
    },
  };
  const flush = async () => {
    await hold;
    timer = undefined;
    const batch = pending;
    pending = [];
    ingest.statements += 1;
    try {
      await core().pool.query(
        `INSERT INTO satellite_results (result_id, check_id, location, started_at, status)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[]) ON CONFLICT DO NOTHING`,
        [batch.map((entry) => entry.result.resultId), batch.map((entry) => entry.result.checkId), batch.map((entry) => entry.result.location), batch.map((entry) => entry.result.startedAt), batch.map((entry) => entry.result.status)],
      );
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  };
  return ingest;
}

let core: SatelliteCore;
const ingest = createTestIngest(() => core);

beforeAll(async () => {
  const url = (await createTestDatabase()).url;
  core = await startSatelliteCore(url, "satellite-results", { monitor: false, assignments: true, submitResult: ingest.submit });
  await core.pool.query("CREATE TABLE satellite_results (result_id uuid PRIMARY KEY, check_id uuid NOT NULL, location text NOT NULL, started_at timestamptz NOT NULL, status text NOT NULL)");
});

afterAll(async () => {
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

describe("results from a satellite", () => {
  it("replayed 1,000 at once are stored in a few statements and all acknowledged, under the satellite's location", async () => {
    const { satellite, satelliteId, checkId } = await connectWithCheck("replay");
    const before = ingest.statements;
    const startedAt = Date.now() - 60_000;
    const sent = Array.from({ length: 1_000 }, (_, i) => satellite.result(checkId, { startedAt: new Date(startedAt + i).toISOString() }).resultId);

    const acked = new Set<string>();
    while (acked.size < sent.length) for (const id of (await satellite.next("ack")).resultIds) acked.add(id);
    expect([...acked].sort()).toEqual([...sent].sort());
    expect(ingest.statements - before).toBeLessThanOrEqual(10);
    // Bounded per socket: it pauses at the bound, and only frames it had read by then still come in.
    expect(ingest.maxPending).toBeLessThan(2 * MAX_RESULTS_IN_FLIGHT);
    const { rows } = await core.pool.query<{ n: number; locations: string[] }>(
      "SELECT count(*)::int AS n, array_agg(DISTINCT location) AS locations FROM satellite_results WHERE result_id = ANY($1::uuid[])",
      [sent],
    );
    expect(rows[0]).toEqual({ n: 1_000, locations: [satelliteId] });
    await satellite.close();
  });

  it("are acknowledged only once their statement committed", async () => {
    const { satellite, checkId } = await connectWithCheck("held");
    let release!: () => void;
    ingest.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const sent = [satellite.result(checkId).resultId, satellite.result(checkId).resultId];
    // Frames are handled in order: once the bad frame's answer is in, both results were submitted.
    satellite.send({ type: "barrier" });
    await satellite.next("error");
    expect(ingest.pending()).toBe(2);
    expect(satellite.received.filter((frame) => frame.type === "ack")).toEqual([]);
    const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM satellite_results WHERE result_id = ANY($1::uuid[])", [sent]);
    expect(rows[0]!.n).toBe(0);

    release();
    ingest.holdUntil(Promise.resolve());
    expect((await satellite.next("ack")).resultIds.sort()).toEqual([...sent].sort());
    await satellite.close();
  });

  it("of a check not assigned to it are rejected and counted, and never submitted", async () => {
    const { satellite } = await connectWithCheck("foreign");
    const foreign = randomUUID();
    const sent = satellite.result(foreign);
    expect(await satellite.next("error")).toMatchObject({ code: "unassigned_check" });
    const { rows } = await core.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM satellite_results WHERE result_id = $1", [sent.resultId]);
    expect(rows[0]!.n).toBe(0);
    const dropped = await core.metrics.getSingleMetric("vantage_satellite_results_dropped_total")!.get();
    expect(dropped.values.find((value) => value.labels.reason === "unassigned")?.value).toBeGreaterThanOrEqual(1);
    await satellite.close();
  });
});
