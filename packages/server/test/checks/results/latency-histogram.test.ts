// Proves the TypeScript bucket bounds are the ones the database buckets by, and that quantiles
// read from a histogram land in the right bucket, capped by the observed extremes.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATENCY_BUCKET_BOUNDS_MS } from "../../../src/checks/index.ts";
import {
  emptyHistogram,
  histogramOfSql,
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
  parseHistogramText,
  percentilesOf,
  sumHistogramsSql,
} from "../../../src/checks/results/latency-histogram.ts";
import { createResultsDatabase } from "../../support/checks/check-results.ts";

let pool: pg.Pool;

beforeAll(async () => {
  pool = await createResultsDatabase("latency-histogram");
});

afterAll(async () => {
  await pool?.end();
});

describe("the latency histogram", () => {
  it("has the bounds vantage_latency_bucket() uses: each bound opens the next bucket", async () => {
    const probes = [0, ...LATENCY_BUCKET_BOUNDS_MS.flatMap((bound) => [bound - 0.001, bound])];
    const { rows } = await pool.query<{ ms: number; bucket: number }>("SELECT ms, vantage_latency_bucket(ms) AS bucket FROM unnest($1::float8[]) AS ms", [
      probes,
    ]);
    const expected = probes.map((ms) => LATENCY_BUCKET_BOUNDS_MS.filter((bound) => ms >= bound).length + 1);
    expect(rows.map((row) => row.bucket)).toEqual(expected);
    expect(LATENCY_BUCKET_COUNT).toBe(29);
  });

  it("counts a group's durations into buckets and adds histograms element-wise in SQL", async () => {
    const histogramOf = async (durations: number[]) =>
      (
        await pool.query<{ hist: number[] }>(
          `SELECT ${histogramOfSql("b", "ms < 1000")} AS hist FROM (SELECT ms, vantage_latency_bucket(ms) AS b FROM unnest($1::float8[]) AS ms) x`,
          [durations],
        )
      ).rows[0]!.hist;
    const expected = emptyHistogram();
    expected[0] = 1;
    expected[3] = 2;
    expected[16] = 1;
    expect(await histogramOf([0.5, 3, 4.9, 500, 5000])).toEqual(expected);
    expect(await histogramOf([])).toEqual(emptyHistogram());

    const none = await pool.query<{ hist: number[] }>(`SELECT ${sumHistogramsSql("hist")} AS hist FROM (VALUES ($1::integer[])) v(hist) WHERE false`, [
      expected,
    ]);
    expect(none.rows[0]!.hist).toEqual(emptyHistogram());
    const summed = await pool.query<{ hist: number[] }>(
      `SELECT ${sumHistogramsSql("hist")} AS hist FROM (VALUES ($1::integer[]), ($1::integer[]), ($2::integer[])) v(hist)`,
      [expected, emptyHistogram()],
    );
    expect(summed.rows[0]!.hist).toEqual(expected.map((n) => 2 * n));
  });

  it("reads a quantile as the upper bound of the bucket holding it, within the observed min and max", () => {
    const hist = emptyHistogram();
    hist[3] = 50; // [3, 5) ms
    hist[15] = 45; // [300, 500) ms
    hist[28] = 5; // 60 s and longer
    expect(histogramQuantile(hist, 0.5)).toBe(5);
    expect(histogramQuantile(hist, 0.51)).toBe(500);
    expect(histogramQuantile(hist, 0.95)).toBe(500);
    expect(histogramQuantile(hist, 0.99, { maxMs: 61_000 })).toBe(61_000);
    expect(histogramQuantile(hist, 0.5, { minMs: 4, maxMs: 61_000 })).toBe(5);
    expect(histogramQuantile(hist, 0.2, { minMs: 4.5, maxMs: 4.7 })).toBe(4.7);
    expect(histogramQuantile(emptyHistogram(), 0.5)).toBeNull();
  });

  it("reads p50, p95 and p99 in one pass as histogramQuantile reads each, from histograms sent as text", () => {
    const shapes = [[3, 50, 15, 45, 28, 5], [0, 1], [7, 2, 8, 6, 9, 1], [28, 3], []];
    for (const shape of shapes) {
      const hist = emptyHistogram();
      for (let i = 0; i < shape.length; i += 2) hist[shape[i]!] = shape[i + 1]!;
      const parsed = parseHistogramText(hist.join(","), [9, 9, 9]);
      expect(parsed).toEqual(hist);
      for (const observed of [{}, { minMs: 4, maxMs: 61_000 }, { minMs: 0.5, maxMs: 2.5 }]) {
        expect(percentilesOf(parsed, observed)).toEqual({
          p50: histogramQuantile(hist, 0.5, observed),
          p95: histogramQuantile(hist, 0.95, observed),
          p99: histogramQuantile(hist, 0.99, observed),
        });
      }
    }
  });
});
