-- The `automation-run-status` triggers (migration 0033) send their NOTIFY only when the writing
-- transaction has not said it announces its changes itself, after its commit
-- (`SET LOCAL vantage.announce_after_commit = on`, as the run executor's batched writes do).
--
-- Why: PostgreSQL serializes the commits of all notifying transactions on one cluster-wide
-- lock, held until the commit record is flushed (the reason the entity outbox announces after
-- commit too: entities/outbox/change-notifier.ts). Every claim and every end of a run notified, so a run's
-- claim waited on `Lock:object` for another run's end — and the router's batch — to reach the
-- disk, one flush after another with no group commit among them (bench/automation-latency:
-- 0.4–0.7 sessions waiting on that lock on average at 200 changes/s). A NOTIFY sent after the
-- commit holds the lock only for the moment it takes, and one that is lost with the process
-- only delays the router and the change stream to their poll: nothing durable depends on it.
-- What is recorded is unchanged.

CREATE OR REPLACE FUNCTION vantage_announce_run_changes_now() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('vantage.announce_after_commit', true), '') <> 'on'
$$;

CREATE OR REPLACE FUNCTION vantage_record_created_automation_runs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  recorded bigint;
BEGIN
  SELECT vantage_record_automation_run_changes(
           array_agg(created.id), array_agg(created.automation_id),
           array_agg(NULL::jsonb), array_agg(vantage_automation_run_state(created)))
    INTO recorded
    FROM created_runs AS created;
  IF recorded > 0 AND vantage_announce_run_changes_now() THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vantage_record_updated_automation_runs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  recorded bigint;
BEGIN
  -- In the order the rows were updated (the transition table's), as the per-row trigger fired.
  SELECT vantage_record_automation_run_changes(
           array_agg(after.id ORDER BY after.ord), array_agg(after.automation_id ORDER BY after.ord),
           array_agg(before.state ORDER BY after.ord), array_agg(after.state ORDER BY after.ord))
    INTO recorded
    FROM (SELECT run.id, run.automation_id, vantage_automation_run_state(run) AS state, row_number() OVER () AS ord FROM runs_after AS run) AS after
    JOIN (SELECT run.id, vantage_automation_run_state(run) AS state FROM runs_before AS run) AS before ON before.id = after.id;
  IF recorded > 0 AND vantage_announce_run_changes_now() THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;
