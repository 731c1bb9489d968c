-- A waiting wait_until step whose condition has time windows can turn true with no entity
-- change: its run's job is scheduled at the next boundary of those windows (the next whole
-- minute or second), before due_at (its timeout), to look again.
ALTER TABLE automation_run_steps ADD COLUMN recheck_at timestamptz;
