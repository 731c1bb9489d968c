-- Run retention: the pruner (one per cluster) deletes ended runs and skips older than
-- VANTAGE_RUN_RETENTION_DAYS, oldest first, in batches. These indexes serve its deletes.

-- Ended runs by end time; unfinished runs (no finished_at) are never pruned, so not indexed.
CREATE INDEX automation_runs_finished ON automation_runs (finished_at) WHERE finished_at IS NOT NULL;

-- Skips by age (automation_skips_newest leads with the automation, so cannot serve this).
CREATE INDEX automation_skips_created ON automation_skips (created_at);

-- Every saved version of every definition (written with it, in the same transaction), so a
-- run executes the version it was decided on: runs name (automation_id, automation_version).
-- Webhook secrets inside are sealed, as in automations.definition.
CREATE TABLE automation_versions (
  automation_id uuid        NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
  version       integer     NOT NULL,
  definition    jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (automation_id, version)
);

-- Definitions saved before this table existed: their current version. (Runs still pending on
-- an older version find no row; claimRun falls back to the current definition for them.)
INSERT INTO automation_versions (automation_id, version, definition, created_at)
  SELECT id, version, definition, updated_at FROM automations;
