-- Check results (checks/results/): raw runs partitioned by day, rollups at 1 minute, 1 hour and
-- 1 day, and the queue of minutes whose rollups new or late results made stale.
--
-- Every table here is partitioned by time so that retention is a DROP of whole partitions (no
-- DELETE, no vacuum bloat). Partitions are made by the core (checks/results/partitions.ts):
-- ahead of time by one maintainer per cluster, and on demand for a result whose day has none.
-- Times are bucketed in UTC whatever the session's TimeZone (date_trunc(unit, t, 'UTC')).
--
-- No foreign key to checks: a key check on every inserted row costs ingest, and a deleted
-- check's results simply age out with their partitions.

-- One row per probe run. The key includes the partition key (PostgreSQL requires it of a
-- unique key on a partitioned table) and the result id, so a satellite's resend of a result
-- after a reconnect is stored once (INSERT … ON CONFLICT DO NOTHING). It also serves the rollup
-- worker's read of one (check, location, minute) and a page of one location's results.
CREATE TABLE check_results (
  check_id    uuid        NOT NULL,
  -- "core" or the satellite's id.
  location    text        NOT NULL,
  started_at  timestamptz NOT NULL,
  result_id   uuid        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('up', 'degraded', 'down', 'error')),
  duration_ms integer     NOT NULL CHECK (duration_ms >= 0),
  status_code smallint,
  error_code  text,
  -- Assertion verdicts, timings, the error, an excerpt on failure (at most 16 KiB as JSON).
  detail      jsonb       NOT NULL,
  PRIMARY KEY (check_id, location, started_at, result_id)
) PARTITION BY RANGE (started_at);

-- "Recent failures" of a check across its locations, newest first: the one UI view that reads
-- raw rows. Partial, so the results that are up (nearly all of them) cost it nothing.
CREATE INDEX check_results_failures ON check_results (check_id, started_at DESC, result_id DESC) WHERE status <> 'up';

-- Minutes touched by ingest, appended in the ingest statement itself. Deliberately without a
-- key: with one, an ingest inserting a minute already queued would wait for the transaction of
-- the rollup worker deleting it (a whole pass), and concurrent ingests touching the same minute
-- would wait on each other. Duplicates are harmless: the worker takes distinct minutes.
CREATE TABLE check_rollup_dirty (
  check_id uuid        NOT NULL,
  location text        NOT NULL,
  minute   timestamptz NOT NULL
);

-- The latency histogram: FIXED bucket bounds in milliseconds (1-2-3-5-7 per decade: readable
-- and at most 2x apart), never to change — stored histograms of every level add element-wise
-- only because every row uses the same bounds. Bucket 1 is [0, 1 ms), bucket k (2..28) is
-- [bound k-1, bound k), bucket 29 is 60 s and longer. Mirrored by LATENCY_BUCKET_BOUNDS_MS in
-- checks/results/latency-histogram.ts (a test compares the two), which also builds the SQL
-- that counts a group's durations into buckets and adds histograms (plain built-in aggregates:
-- a PL/pgSQL aggregate costs microseconds per row, ten times as much).
CREATE FUNCTION vantage_latency_bucket(ms double precision) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN width_bucket(ms, '{1,2,3,5,7,10,15,20,30,50,70,100,150,200,300,500,700,1000,1500,2000,3000,5000,7000,10000,15000,20000,30000,60000}'::double precision[]) + 1;

-- Rollups: one row per check, bucket start and location. Counts by status; latency (sum, min,
-- max, histogram) of the answered runs only (up and degraded: a timeout's duration is the
-- timeout, an error's is meaningless). The key leads with (check_id, bucket) so that a range of
-- one check (or a page of checks, check_id = ANY) is one index range over all its locations.
-- It INCLUDEs the counts so uptime bars are index-only scans: the worker writes a bucket of
-- every check at once, so one check's 90 days lie on thousands of heap pages, but on a few
-- index pages.
-- 1m is partitioned by day, 1h by month and 1d by year: each level's retention drops whole
-- partitions, and a query of a range touches a handful of them.
CREATE TABLE check_rollups_1m (
  check_id uuid        NOT NULL,
  bucket   timestamptz NOT NULL,
  location text        NOT NULL,
  total    integer     NOT NULL,
  up       integer     NOT NULL,
  degraded integer     NOT NULL,
  down     integer     NOT NULL,
  error    integer     NOT NULL,
  sum_ms   bigint      NOT NULL,
  -- Null when the bucket has no answered run.
  min_ms   integer,
  max_ms   integer,
  hist     integer[]   NOT NULL,
  PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error)
) PARTITION BY RANGE (bucket);

CREATE TABLE check_rollups_1h (LIKE check_rollups_1m INCLUDING CONSTRAINTS, PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error)) PARTITION BY RANGE (bucket);
CREATE TABLE check_rollups_1d (LIKE check_rollups_1m INCLUDING CONSTRAINTS, PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error)) PARTITION BY RANGE (bucket);
