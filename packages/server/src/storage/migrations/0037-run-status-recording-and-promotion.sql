-- The `automation-run-status` triggers (migrations 0033, 0035, 0036) record with one statement
-- per call instead of a chain of them, and an end that promotes no queued run writes nothing.
--
-- Why, recording: each call ran two statements — the trigger's SELECT, which aggregated the
-- transition tables into four arrays (building each state twice per row), then the SQL function
-- vantage_record_automation_run_changes, which unnested them again into its own CTE (diff, two
-- INSERTs): a second executor start-up per call, and arrays built only to be taken apart. Plans
-- were not the cost (PostgreSQL 18 caches the function's; the run transactions force generic
-- plans), so a `SET plan_cache_mode` on the functions would buy nothing. Now each trigger
-- function runs one statement, read straight from the transition table, with no parameters:
-- PL/pgSQL prepares it once per session and runs its generic plan.
-- It was the largest statement item per change (bench/automation-latency --statement-stats).
--
-- What is recorded is unchanged: the same states (vantage_automation_run_state), the same
-- canonical diff (fields sorted bytewise, the delta's absent members as JSON null), one outbox
-- row per run whose state changed, in the transition table's order (their seqs follow it), one
-- transition per changed field, nothing for an update that changes no field, and one NOTIFY per
-- transaction unless it announces its changes after commit (migration 0035). Crash safety is
-- the statement's: the outbox rows, transitions and the runs' writes commit or vanish together.
-- vantage_record_automation_run_changes stays for anything that calls it; the triggers no longer do.

-- Created runs: no previous state, so every member of the new state is a changed field and the
-- delta is the state itself (a state always has `status`: never empty).
CREATE OR REPLACE FUNCTION vantage_record_created_automation_runs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  recorded bigint;
BEGIN
  WITH created AS MATERIALIZED (
    SELECT run.id, run.automation_id, vantage_automation_run_state(run) AS state, row_number() OVER () AS ord
    FROM created_runs AS run),
  changes AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    SELECT gen_random_uuid(), 'automation-run-status', created.id::text, NULL, created.state, created.state,
           ARRAY(SELECT key.name FROM jsonb_object_keys(created.state) AS key(name) ORDER BY key.name COLLATE "C"),
           jsonb_build_object('type', 'automation', 'id', created.automation_id), NULL
    FROM created ORDER BY created.ord
    RETURNING seq, entity_id, next, changed_fields, occurred_at),
  transitions AS (
    INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
    SELECT change.seq, 'automation-run-status', change.entity_id, field.name, NULL, change.next -> field.name, change.occurred_at
    FROM changes AS change CROSS JOIN LATERAL unnest(change.changed_fields) AS field(name))
  SELECT count(*) INTO recorded FROM changes;
  IF recorded > 0 AND vantage_announce_run_changes_now() THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;

-- Updated runs, in the order the rows were updated (the transition table's), as the per-row
-- trigger fired. Fires for every UPDATE of automation_runs (transition tables allow no column
-- list), even of no rows: the diff of the states decides what is recorded.
CREATE OR REPLACE FUNCTION vantage_record_updated_automation_runs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  recorded bigint;
BEGIN
  WITH moved AS MATERIALIZED (
    SELECT after.id, after.automation_id, after.ord, vantage_automation_run_state(before) AS old_state, after.new_state
    FROM (SELECT run.id, run.automation_id, vantage_automation_run_state(run) AS new_state, row_number() OVER () AS ord
          FROM runs_after AS run) AS after
    JOIN runs_before AS before ON before.id = after.id),
  diffs AS (
    SELECT moved.*, diff.fields, diff.delta
    FROM moved CROSS JOIN LATERAL (
      SELECT coalesce(array_agg(key.name ORDER BY key.name COLLATE "C"), '{}') AS fields,
             coalesce(jsonb_object_agg(key.name, coalesce(moved.new_state -> key.name, 'null'::jsonb)), '{}') AS delta
      FROM jsonb_object_keys(moved.old_state || moved.new_state) AS key(name)
      WHERE moved.old_state -> key.name IS DISTINCT FROM moved.new_state -> key.name) AS diff
    WHERE cardinality(diff.fields) > 0),
  changes AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    SELECT gen_random_uuid(), 'automation-run-status', diffs.id::text, diffs.old_state, diffs.new_state, diffs.delta, diffs.fields,
           jsonb_build_object('type', 'automation', 'id', diffs.automation_id), NULL
    FROM diffs ORDER BY diffs.ord
    RETURNING seq, entity_id, prev, next, changed_fields, occurred_at),
  transitions AS (
    INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
    SELECT change.seq, 'automation-run-status', change.entity_id, field.name, change.prev -> field.name, change.next -> field.name, change.occurred_at
    FROM changes AS change CROSS JOIN LATERAL unnest(change.changed_fields) AS field(name))
  SELECT count(*) INTO recorded FROM changes;
  IF recorded > 0 AND vantage_announce_run_changes_now() THEN
    PERFORM pg_notify('vantage_entity_changes', '');
  END IF;
  RETURN NULL;
END
$$;

-- Promotion of queued runs at a run's end (automations/runs/run-admission.ts, PROMOTE_NEXT_QUEUED).
-- Why: every end and cancel sent it, and almost none promotes anything — only a scope with a
-- queued run can, and runs are queued only in mode queued — yet its UPDATE fired the updated
-- trigger above for no rows, and finding the oldest queued run read the scope's active runs
-- (automation_runs_active holds pending and running ones too: in mode parallel, all of them).

-- The queued runs of a scope, oldest first: an end finds the next one, or that there is none,
-- in this index alone. Small (a run leaves it once promoted or cancelled), and free to keep for
-- runs that are never queued: an entry is made only for a row version that is queued.
CREATE INDEX IF NOT EXISTS automation_runs_queued ON automation_runs (automation_id, context_key, created_at, id)
  WHERE status = 'queued';

-- Makes queued runs pending: called by the promotion only when it found a run to promote (STRICT:
-- a null array — none found — runs nothing, so no UPDATE and no trigger). `status = 'queued'` is
-- checked again on the locked row, so a run that two ends tried to promote at once is promoted
-- by one of them only (the other sees it pending after waiting for its lock, and returns nothing:
-- no second job, no second change).
CREATE OR REPLACE FUNCTION vantage_promote_queued_runs(run_ids uuid[]) RETURNS SETOF uuid
LANGUAGE sql STRICT VOLATILE AS $$
  UPDATE automation_runs SET status = 'pending' WHERE id = ANY(run_ids) AND status = 'queued' RETURNING id
$$;
