-- Rollup markers carry what their ingest batch added to the minute (checks/results/): the
-- counts by status, the latency sum, min, max and histogram of the rows that batch actually
-- inserted. The rollup worker adds them to the minute, its hour and its day instead of
-- recomputing the minute from raw rows on every pass (bench/check-throughput: a check every
-- 10 s had its open minute re-read about six times a minute, the largest statement by
-- PostgreSQL time, ahead of the claims). Still idempotent: a marker is written in the same
-- statement as the rows it counts (only rows inserted, so a resend adds nothing), and taken
-- and applied in one statement of the worker's transaction.
-- A marker without counts (total NULL: one written before this migration, or by hand to
-- rebuild a minute) still makes the worker recompute its minute from the raw rows.
ALTER TABLE check_rollup_dirty
  ADD COLUMN total    integer,
  ADD COLUMN up       integer,
  ADD COLUMN degraded integer,
  ADD COLUMN down     integer,
  ADD COLUMN error    integer,
  ADD COLUMN sum_ms   bigint,
  ADD COLUMN min_ms   integer,
  ADD COLUMN max_ms   integer,
  ADD COLUMN hist     integer[];
