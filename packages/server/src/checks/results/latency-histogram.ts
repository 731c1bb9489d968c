// The fixed log-scale latency histogram every rollup level stores, and the percentiles read
// from it. The bounds mirror vantage_latency_bucket() in migration 0015; they never change.

/**
 * Upper bounds (exclusive) of the buckets, in ms: 1-2-3-5-7 per decade, so neighbouring bounds
 * are at most 2x apart and read well on a chart. Bucket 0 is [0, 1 ms), bucket k is
 * [bound k-1, bound k), the last bucket (index 28) is 60 s and longer: 29 buckets.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10_000, 15_000, 20_000, 30_000, 60_000,
];

export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_BOUNDS_MS.length + 1;

const BUCKETS = Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => i + 1);

/**
 * SQL of the histogram of a group: `bucket` is a column holding vantage_latency_bucket() of
 * each row (computed once per row), `filter` which rows count. Built-in aggregates only.
 */
export function histogramOfSql(bucket: string, filter: string): string {
  return `ARRAY[${BUCKETS.map((i) => `count(*) FILTER (WHERE ${filter} AND ${bucket} = ${i})`).join(", ")}]::integer[]`;
}

/** SQL of the element-wise sum of a group's histograms (column `hist`): one sum() per bucket. */
export function sumHistogramsSql(hist: string): string {
  return `ARRAY[${BUCKETS.map((i) => `coalesce(sum(${hist}[${i}]), 0)`).join(", ")}]::integer[]`;
}

/** Adds histograms element-wise (what sumHistogramsSql does in SQL). */
export function addHistograms(into: number[], hist: readonly number[]): number[] {
  for (let i = 0; i < hist.length; i++) into[i] = (into[i] ?? 0) + hist[i]!;
  return into;
}

export const emptyHistogram = (): number[] => new Array<number>(LATENCY_BUCKET_COUNT).fill(0);

/**
 * The q-quantile (0 < q ≤ 1) of a histogram: the upper bound of the bucket that holds the
 * ⌈q·n⌉-th smallest duration — exact to the bucket: the true value lies in that bucket and is
 * below the bound. Capped at the observed maximum (the open last bucket has no bound) and
 * raised to the observed minimum, when known. Null for an empty histogram.
 */
export function histogramQuantile(hist: readonly number[], q: number, observed: { minMs?: number | null; maxMs?: number | null } = {}): number | null {
  const count = hist.reduce((sum, n) => sum + n, 0);
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  let bucket = hist.length - 1;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) {
      bucket = i;
      break;
    }
  }
  let value = LATENCY_BUCKET_BOUNDS_MS[bucket] ?? observed.maxMs ?? Number.POSITIVE_INFINITY;
  if (observed.maxMs != null) value = Math.min(value, observed.maxMs);
  if (observed.minMs != null) value = Math.max(value, observed.minMs);
  return value;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function percentilesOf(hist: readonly number[], observed: { minMs?: number | null; maxMs?: number | null } = {}): Percentiles {
  return { p50: histogramQuantile(hist, 0.5, observed), p95: histogramQuantile(hist, 0.95, observed), p99: histogramQuantile(hist, 0.99, observed) };
}
