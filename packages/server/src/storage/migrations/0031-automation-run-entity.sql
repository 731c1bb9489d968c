-- Automation runs as the `automation-run-status` entity kind: a run's creation and every change of its
-- status are entity changes in the outbox, so the live stream (GET /api/v1/events) carries them
-- with its resume semantics, and history reads list them. The rows are written by a trigger in
-- the statement that writes the run — the router's insert, a promotion, the executor's claim and
-- end, a cancel — so whichever code path moves a run, its change commits or rolls back with it.
-- The run's row lock serializes its writes (what the entity lock does for a `mutate`).

-- The run's entity state, the one definition both the trigger and the kind's read use.
-- Absent (null) members are stripped, as the framework's canonical states have none.
CREATE OR REPLACE FUNCTION vantage_automation_run_state(run automation_runs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'automationId', run.automation_id,
    'status', run.status,
    'triggerEvent', run.trigger_event,
    'triggerChangeId', run.change_id,
    'error', run.error,
    'createdAt', to_char(run.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'startedAt', to_char(run.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'finishedAt', to_char(run.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
$$;

-- What `mutate` records, computed here: the canonical diff (top-level members that differ, names
-- sorted bytewise like JavaScript's sort), the delta, one transition per changed field. The
-- NOTIFY names no seq and is the same for every row, so PostgreSQL sends one per transaction:
-- it wakes the stream and the router, which read the outbox (the lossy live feed reads nothing).
CREATE OR REPLACE FUNCTION vantage_record_automation_run_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_state jsonb := CASE WHEN TG_OP = 'UPDATE' THEN vantage_automation_run_state(OLD) END;
  new_state jsonb := vantage_automation_run_state(NEW);
  fields text[];
  fields_delta jsonb;
  recorded_seq bigint;
  recorded_at timestamptz;
BEGIN
  SELECT coalesce(array_agg(key.name ORDER BY key.name COLLATE "C"), '{}'),
         coalesce(jsonb_object_agg(key.name, coalesce(new_state -> key.name, 'null'::jsonb)), '{}')
    INTO fields, fields_delta
    FROM jsonb_object_keys(coalesce(old_state, '{}') || new_state) AS key(name)
    WHERE old_state -> key.name IS DISTINCT FROM new_state -> key.name;
  IF cardinality(fields) = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
  VALUES (gen_random_uuid(), 'automation-run-status', NEW.id::text, old_state, new_state, fields_delta, fields,
          jsonb_build_object('type', 'automation', 'id', NEW.automation_id), NULL)
  RETURNING seq, occurred_at INTO recorded_seq, recorded_at;
  INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
  SELECT recorded_seq, 'automation-run-status', NEW.id::text, changed.name, old_state -> changed.name, new_state -> changed.name, recorded_at
  FROM unnest(fields) AS changed(name);
  PERFORM pg_notify('vantage_entity_changes', '');
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS automation_runs_entity_changes ON automation_runs;
CREATE TRIGGER automation_runs_entity_changes
  AFTER INSERT OR UPDATE OF status ON automation_runs
  FOR EACH ROW EXECUTE FUNCTION vantage_record_automation_run_change();
