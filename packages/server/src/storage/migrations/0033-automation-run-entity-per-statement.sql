-- The `automation-run-status` changes of migration 0031, recorded once per statement instead of
-- once per row: a statement that inserts or moves N runs (the router's batch of admissions, a
-- run session's batch of claims or ends) calls its trigger once, and the outbox rows and
-- transitions of all N go in with one INSERT each. Why: in a mass outage the per-row trigger
-- ran three times per run (created, running, ended), each call two single-row INSERTs and a
-- NOTIFY planned and executed on its own (bench/mass-outage, --statement-stats).
-- What is recorded is unchanged: the same state (vantage_automation_run_state), the same
-- canonical diff, one outbox row per run whose state changed, one transition per changed
-- field, one NOTIFY per transaction; a redelivered insert (ON CONFLICT DO NOTHING) is not in
-- the transition table, and an update that changes no field of the state records nothing.

-- The outbox rows and transitions of runs whose state went from `old_states[i]` (null: created)
-- to `new_states[i]`, in array order (their seqs follow it). Returns how many changes it recorded.
CREATE OR REPLACE FUNCTION vantage_record_automation_run_changes(
  run_ids uuid[], automation_ids uuid[], old_states jsonb[], new_states jsonb[]) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  WITH states AS (
    SELECT s.ord, s.run_id, s.automation_id, s.old_state, s.new_state, d.fields, d.delta
    FROM unnest(run_ids, automation_ids, old_states, new_states) WITH ORDINALITY AS s(run_id, automation_id, old_state, new_state, ord)
    CROSS JOIN LATERAL (
      SELECT coalesce(array_agg(key.name ORDER BY key.name COLLATE "C"), '{}') AS fields,
             coalesce(jsonb_object_agg(key.name, coalesce(s.new_state -> key.name, 'null'::jsonb)), '{}') AS delta
      FROM jsonb_object_keys(coalesce(s.old_state, '{}') || s.new_state) AS key(name)
      WHERE s.old_state -> key.name IS DISTINCT FROM s.new_state -> key.name) AS d
    WHERE cardinality(d.fields) > 0),
  recorded AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    SELECT gen_random_uuid(), 'automation-run-status', run_id::text, old_state, new_state, delta, fields,
           jsonb_build_object('type', 'automation', 'id', automation_id), NULL
    FROM states ORDER BY ord
    RETURNING seq, entity_id, prev, next, changed_fields, occurred_at),
  transitions AS (
    INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
    SELECT r.seq, 'automation-run-status', r.entity_id, changed.name, r.prev -> changed.name, r.next -> changed.name, r.occurred_at
    FROM recorded r CROSS JOIN LATERAL unnest(r.changed_fields) AS changed(name))
  SELECT count(*) FROM recorded
$$;

-- The NOTIFY names no seq and is the same for every statement, so PostgreSQL sends one per
-- transaction: it wakes the stream and the router, which read the outbox.
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
  IF recorded > 0 THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;

-- An UPDATE trigger without a column list (transition tables allow none) fires for every
-- UPDATE of automation_runs, even of no rows: the diff of the state decides what is recorded.
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
  IF recorded > 0 THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS automation_runs_entity_changes ON automation_runs;
DROP FUNCTION IF EXISTS vantage_record_automation_run_change();

DROP TRIGGER IF EXISTS automation_runs_created_entity_changes ON automation_runs;
CREATE TRIGGER automation_runs_created_entity_changes
  AFTER INSERT ON automation_runs
  REFERENCING NEW TABLE AS created_runs
  FOR EACH STATEMENT EXECUTE FUNCTION vantage_record_created_automation_runs();

DROP TRIGGER IF EXISTS automation_runs_updated_entity_changes ON automation_runs;
CREATE TRIGGER automation_runs_updated_entity_changes
  AFTER UPDATE ON automation_runs
  REFERENCING OLD TABLE AS runs_before NEW TABLE AS runs_after
  FOR EACH STATEMENT EXECUTE FUNCTION vantage_record_updated_automation_runs();
