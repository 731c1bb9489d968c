-- The `automation-run-status` state keeps only what the run's change row does not already carry:
-- `{ status, triggerEvent, triggerChangeId?, error? }`. Dropped:
-- - `automationId`: the same id as every run change's actor (`{ type: "automation", id }`);
-- - `createdAt`, `startedAt`, `finishedAt`: the run's creation, claim and end are each recorded
--   as a change, stamped (`occurredAt`) in the statement that wrote them — the same moment to
--   within that statement; the run's own times stay on the run (GET /api/v1/automations/…/runs).
-- Why: recording the kind was the largest database item on the change → webhook path
-- (bench/automation-latency --statement-stats): three outbox rows and ten transitions per run,
-- 8.3 KB of WAL per run (bench/run-history). Each dropped field was a transition of its own in
-- the created, running or ended change (ten per run → five or six), a member of three outbox
-- rows' prev, next and delta, and three to_char calls per state, computed twice per update.
-- The triggers of migrations 0033 and 0035 diff this function's states, and the kind's read
-- selects it, so both follow. Changes recorded before this migration keep the fields they had.
CREATE OR REPLACE FUNCTION vantage_automation_run_state(run automation_runs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'status', run.status,
    'triggerEvent', run.trigger_event,
    'triggerChangeId', run.change_id,
    'error', run.error))
$$;

-- The transitions' primary key (seq, field): every transition insert paid an index entry for it
-- (0.7 KB of WAL per run here, and some per field of every `mutate`), and nothing reads through
-- it — history goes through entity_transitions_by_field (kind, entity_id, field, seq) — nor can
-- it refuse anything: transitions are inserted only by the statement or trigger that inserts
-- their outbox row, one per distinct changed field, from that row's fresh seq (migration 0032
-- dropped the foreign key on the same grounds).
ALTER TABLE entity_transitions DROP CONSTRAINT IF EXISTS entity_transitions_pkey;
