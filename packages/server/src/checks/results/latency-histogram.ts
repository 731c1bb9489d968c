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

/** SQL of `a` plus `b` element-wise, or minus with `sign` "-" (a null `b` counts as zeros): one expression per bucket. */
export function combineHistogramsSql(a: string, sign: "+" | "-", b: string): string {
  return `ARRAY[${BUCKETS.map((i) => `${a}[${i}] ${sign} coalesce(${b}[${i}], 0)`).join(", ")}]::integer[]`;
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

/**
 * p50, p95 and p99 as histogramQuantile reads each, in one pass over the histogram: a series
 * asks this of every point (3 × 1,080 of them for 90 days), so it is on a read's hot path.
 */
export function percentilesOf(hist: readonly number[], observed: { minMs?: number | null; maxMs?: number | null } = {}): Percentiles {
  let count = 0;
  for (let i = 0; i < hist.length; i++) count += hist[i]!;
  if (count === 0) return { p50: null, p95: null, p99: null };
  const ranks = [Math.max(1, Math.ceil(0.5 * count)), Math.max(1, Math.ceil(0.95 * count)), Math.max(1, Math.ceil(0.99 * count))];
  const buckets = [hist.length - 1, hist.length - 1, hist.length - 1];
  let seen = 0;
  for (let i = 0, next = 0; i < hist.length && next < 3; i++) {
    seen += hist[i]!;
    while (next < 3 && seen >= ranks[next]!) buckets[next++] = i;
  }
  const bounded = (bucket: number) => {
    let value = LATENCY_BUCKET_BOUNDS_MS[bucket] ?? observed.maxMs ?? Number.POSITIVE_INFINITY;
    if (observed.maxMs != null) value = Math.min(value, observed.maxMs);
    if (observed.minMs != null) value = Math.max(value, observed.minMs);
    return value;
  };
  return { p50: bounded(buckets[0]!), p95: bounded(buckets[1]!), p99: bounded(buckets[2]!) };
}

/**
 * Parses a histogram sent as "3,0,1,…" (array_to_string) into `into`, which it returns: a
 * series parses thousands, and split(",").map(Number) costs an array of strings each.
 */
export function parseHistogramText(text: string, into: number[] = emptyHistogram()): number[] {
  let bucket = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit >= 0 && digit <= 9) value = value * 10 + digit;
    else {
      into[bucket++] = value;
      value = 0;
    }
  }
  into[bucket++] = value;
  for (; bucket < into.length; bucket++) into[bucket] = 0;
  return into;
}
