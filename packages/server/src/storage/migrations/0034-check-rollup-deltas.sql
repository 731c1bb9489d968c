-- Rollup markers carry the status and duration of the result they were written for
-- (checks/results/): the rollup worker counts the markers it takes into the minute, its hour and
-- its day, instead of recomputing each marked minute from its raw rows on every pass
-- (bench/check-throughput: a check every 10 s had its open minute re-read about six times a
-- minute; pg_stat_statements ranked that pass first by time). Still exactly once: ingest writes
-- one marker per row it actually inserted, in the same statement (a resend inserts no row, so
-- it adds nothing), and the worker deletes the markers it counts in the statement that adds them.
-- A marker without a status (one written before this migration, or by hand to rebuild a minute)
-- still makes the worker recompute its minute from the raw rows.
ALTER TABLE check_rollup_dirty
  ADD COLUMN status      text,
  ADD COLUMN duration_ms integer;
