// Proves the batcher coalesces concurrent submits into one statement, answers each submitter
// after the commit, rejects every submitter of a batch that failed (nothing stored), and stores
// a resend once whether or not it was marked as one (an unmarked one redoes its batch).
import type pg from "pg";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createResultIngest, type ResultIngestOptions } from "../../../../src/checks/results/ingest/result-ingest.ts";
import { createRollupWorker } from "../../../../src/checks/results/maintenance/rollup-worker.ts";
import { createResultMetrics } from "../../../../src/checks/results/result-metrics.ts";
import { silentLogger } from "../../../../src/log.ts";
import { createResultsDatabase, ingestContext, makeResult } from "../../../support/checks/check-results.ts";

let pool: pg.Pool;

beforeAll(async () => {
  pool = await createResultsDatabase("result-ingest");
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query("TRUNCATE check_results, check_rollup_dirty, check_rollups_1m, check_rollups_1h, check_rollups_1d");
});

async function batchSizes(registry: Registry): Promise<{ count: number; sum: number }> {
  const metric = await registry.getSingleMetric("vantage_check_result_ingest_batch_size")!.get();
  const value = (name: string) => (metric.values as Array<{ metricName?: string; value: number }>).find((v) => v.metricName === name)?.value ?? 0;
  return { count: value("vantage_check_result_ingest_batch_size_count"), sum: value("vantage_check_result_ingest_batch_size_sum") };
}

const stored = async () => Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM check_results")).rows[0]!.n);

async function counter(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values.reduce((sum, value) => sum + value.value, 0);
}

/** A batcher with its own metrics; every result submitted together goes in one batch. */
function batcher(extra: Partial<ResultIngestOptions> = {}) {
  const registry = new Registry();
  const ingest = createResultIngest({
    pool,
    logger: silentLogger(),
    context: ingestContext(pool),
    metrics: createResultMetrics(registry),
    maxDelayMs: 50,
    ...extra,
  });
  return {
    ingest,
    registry,
    duplicates: () => counter(registry, "vantage_check_results_duplicate_total"),
    storedCount: () => counter(registry, "vantage_check_results_total"),
    redoneBatches: () => counter(registry, "vantage_check_result_ingest_unmarked_resend_batches_total"),
    failedBatches: () => counter(registry, "vantage_check_result_ingest_failures_total"),
  };
}

/** What the rollup worker made of the markers: results counted into the minute rollups. */
async function rolledUp(): Promise<number> {
  const context = ingestContext(pool);
  await createRollupWorker({ pool, logger: silentLogger(), partitions: context.partitions }).runOnce();
  return Number((await pool.query<{ n: string }>("SELECT coalesce(sum(total), 0) AS n FROM check_rollups_1m")).rows[0]!.n);
}

describe("the result ingest batcher", () => {
  it("coalesces results submitted together into one batch and answers each after the commit", async () => {
    const { ingest, registry } = batcher();
    const results = Array.from({ length: 200 }, () => makeResult());
    const resent = { ...results[0]! };

    const outcomes = await Promise.all([...results, resent].map((result) => ingest.submit(result)));

    expect(outcomes.filter((outcome) => outcome === "stored")).toHaveLength(200);
    expect(outcomes.at(-1)).toBe("duplicate");
    expect(await batchSizes(registry)).toEqual({ count: 1, sum: 201 });
    expect(await stored()).toBe(200);
    const counted = await registry.getSingleMetric("vantage_check_results_total")!.get();
    expect(counted.values.find((v) => v.labels.status === "up" && v.labels.type === "unknown")?.value).toBe(200);
    await ingest.stop();
  });

  it("sends a full batch without waiting for the delay, and splits what exceeds it", async () => {
    const { ingest, registry } = batcher({ maxBatch: 100, maxDelayMs: 60_000 });
    await Promise.all(Array.from({ length: 200 }, () => makeResult()).map((result) => ingest.submit(result)));
    expect(await batchSizes(registry)).toEqual({ count: 2, sum: 200 });
    const late = ingest.submit(makeResult());
    await ingest.flush();
    await expect(late).resolves.toBe("stored");
    await ingest.stop();
  });

  it("rejects every submitter of a batch the database refused, storing none of it, and stores them when resent", async () => {
    const ingest = createResultIngest({ pool, logger: silentLogger(), context: ingestContext(pool), maxDelayMs: 20 });
    await pool.query(`
      CREATE FUNCTION refuse_markers() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'database refuses'; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON check_rollup_dirty FOR EACH STATEMENT EXECUTE FUNCTION refuse_markers();`);
    const results = Array.from({ length: 5 }, () => makeResult());
    try {
      const settled = await Promise.allSettled(results.map((result) => ingest.submit(result)));
      expect(settled.map((outcome) => outcome.status)).toEqual(Array(5).fill("rejected"));
      expect(await stored()).toBe(0);
    } finally {
      await pool.query("DROP TRIGGER refuse ON check_rollup_dirty; DROP FUNCTION refuse_markers()");
    }
    expect(await Promise.all(results.map((result) => ingest.submit(result)))).toEqual(Array(5).fill("stored"));
    await ingest.stop();
  });

  describe("a batch mixing new results with results already stored", () => {
    for (const marked of [false, true]) {
      it(`stores the new ones once and counts the resends ${marked ? "marked" : "not marked"} as duplicates, once in the rollups${marked ? ", at the first attempt" : ", redoing the batch"}`, async () => {
        const { ingest, duplicates, storedCount, redoneBatches, failedBatches } = batcher();
        const old = Array.from({ length: 3 }, () => makeResult());
        expect(await Promise.all(old.map((result) => ingest.submit(result)))).toEqual(["stored", "stored", "stored"]);
        const fresh = Array.from({ length: 4 }, () => makeResult());
        const resent = old.slice(0, 2).map((result) => ({ ...result, resend: marked || undefined }));

        const outcomes = await Promise.all([fresh[0]!, resent[0]!, fresh[1]!, fresh[2]!, resent[1]!, fresh[3]!].map((result) => ingest.submit(result)));

        expect(outcomes).toEqual(["stored", "duplicate", "stored", "stored", "duplicate", "stored"]);
        expect(await duplicates()).toBe(2);
        expect(await storedCount()).toBe(7);
        expect(await redoneBatches()).toBe(marked ? 0 : 1);
        expect(await failedBatches()).toBe(0);
        expect(await stored()).toBe(7);
        expect(await rolledUp()).toBe(7);
        await ingest.stop();
      });
    }

    it("keeps nothing of the caller's work in the attempt that failed: the redone batch runs it again, with only the new results stored", async () => {
      await pool.query("CREATE TABLE IF NOT EXISTS hook_saw (result_id uuid NOT NULL)");
      await pool.query("TRUNCATE hook_saw");
      const attempts: number[] = [];
      const { ingest, redoneBatches } = batcher({
        inTransaction: async (tx) => {
          const outcome = await tx.stored.catch(() => null);
          attempts.push(outcome?.stored.length ?? -1);
          if (outcome === null) return; // the insert failed: the batch fails with its error
          await tx.client.query("INSERT INTO hook_saw SELECT unnest($1::uuid[])", [outcome.stored]);
        },
      });
      const old = makeResult();
      await ingest.submit(old);
      const fresh = makeResult();

      expect(await Promise.all([ingest.submit(fresh), ingest.submit({ ...old })])).toEqual(["stored", "duplicate"]);

      expect(attempts).toEqual([1, -1, 1]);
      expect(await redoneBatches()).toBe(1);
      const { rows } = await pool.query<{ result_id: string }>("SELECT result_id FROM hook_saw ORDER BY result_id");
      expect(rows.map((row) => row.result_id).sort()).toEqual([old.resultId, fresh.resultId].sort());
      expect(await stored()).toBe(2);
      await ingest.stop();
    });
  });

  it("answers dropped for a result past the retention, and refuses results once stopped", async () => {
    const ingest = createResultIngest({ pool, logger: silentLogger(), context: ingestContext(pool) });
    await expect(ingest.submit(makeResult({ at: Date.now() - 30 * 24 * 3_600_000 }))).resolves.toBe("dropped");
    await ingest.stop();
    await expect(ingest.submit(makeResult())).rejects.toMatchObject({ code: "ingest_stopped" });
  });

  it("runs a caller's work in the batch's transaction, and its failure stores nothing", async () => {
    let seen = 0;
    const ingest = createResultIngest({
      pool,
      logger: silentLogger(),
      context: ingestContext(pool),
      inTransaction: async (tx) => {
        seen += Number((await tx.client.query<{ n: string }>("SELECT count(*) AS n FROM check_results")).rows[0]!.n);
        if ((await tx.stored).stored.length > 1) throw new Error("health evaluation failed");
      },
    });
    await expect(ingest.submit(makeResult())).resolves.toBe("stored");
    expect(seen).toBe(1);
    const settled = await Promise.allSettled([ingest.submit(makeResult()), ingest.submit(makeResult())]);
    expect(settled.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await stored()).toBe(1);
    await ingest.stop();
  });
});
