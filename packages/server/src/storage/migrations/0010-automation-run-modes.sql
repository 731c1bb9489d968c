-- Run modes and traces: runs may wait their turn (`queued`, mode queued), every decision keeps
-- its condition verdicts, manual runs come from no change, and triggers with `for:` hold a
-- durable timer per entity until it fires or a contrary change cancels it.

ALTER TABLE automation_runs DROP CONSTRAINT automation_runs_status_check;
ALTER TABLE automation_runs ADD CONSTRAINT automation_runs_status_check
  CHECK (status IN ('queued', 'pending', 'running', 'succeeded', 'failed', 'cancelled'));

-- A manual run (POST /automations/:id/run) is fired by no change; NULLs never collide in the unique key.
ALTER TABLE automation_runs ALTER COLUMN change_id DROP NOT NULL;
ALTER TABLE automation_skips ALTER COLUMN change_id DROP NOT NULL;

-- [{ path, passed }] for the trigger's filter and each condition, in evaluation order.
ALTER TABLE automation_runs ADD COLUMN verdicts jsonb NOT NULL DEFAULT '[]';
ALTER TABLE automation_skips ADD COLUMN verdicts jsonb NOT NULL DEFAULT '[]';

-- Admission reads the active runs of one scope (automation, or automation and context) on
-- every decision, and promotion finds the oldest queued one: both served by this index.
CREATE INDEX automation_runs_active ON automation_runs (automation_id, context_key, created_at)
  WHERE status IN ('queued', 'pending', 'running');

-- A trigger with `for:` that matched: it fires at due_at unless a later change of the same
-- entity emits a different event (or removes the entity) first. One timer per trigger and
-- entity: a repeated match keeps counting from the first.
CREATE TABLE automation_trigger_timers (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  automation_id      uuid        NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
  automation_version integer     NOT NULL,
  trigger_id         text        NOT NULL,
  trigger_event      text        NOT NULL,
  -- The change that started the timer: the run it fires is keyed by it.
  change_id          uuid        NOT NULL,
  entity_kind        text        NOT NULL,
  entity_id          text        NOT NULL,
  trigger            jsonb       NOT NULL,
  verdicts           jsonb       NOT NULL DEFAULT '[]',
  due_at             timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (automation_id, trigger_id, entity_kind, entity_id)
);

-- The router looks up the timers of a batch's entities in one query.
CREATE INDEX automation_trigger_timers_entity ON automation_trigger_timers (entity_kind, entity_id);
