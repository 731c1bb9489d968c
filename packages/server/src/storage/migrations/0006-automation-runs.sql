-- Automation runs and skips, as the router's automation sink records them: one decision per
-- (automation, trigger, change), made in the router's transaction that advances its cursor.
-- The unique keys make redelivery harmless: a change can never start a run twice.

CREATE TABLE automation_runs (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  automation_id      uuid        NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
  -- The definition's version the run was decided on.
  automation_version integer     NOT NULL,
  trigger_id         text        NOT NULL,
  trigger_event      text        NOT NULL,
  -- The entity change that fired the trigger.
  change_id          uuid        NOT NULL,
  -- Per-context serialization key (e.g. the satellite id) when `concurrency: context`.
  context_key        text,
  -- The router only creates pending runs; the run engine moves them on.
  status             text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  -- { event, triggerId, payload, forMs, change: { changeId, seq, kind, id, occurredAt } }
  trigger            jsonb       NOT NULL,
  -- clock_timestamp(), not now(): the runs of one router batch keep their order.
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (automation_id, trigger_id, change_id)
);

-- Runs of one automation, newest first.
CREATE INDEX automation_runs_newest ON automation_runs (automation_id, created_at DESC);

-- A trigger that matched an event but did not start a run, and why
-- (filter_false, condition_false, invalid_payload; later: busy, max_runs, …).
CREATE TABLE automation_skips (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  automation_id      uuid        NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
  automation_version integer     NOT NULL,
  trigger_id         text        NOT NULL,
  trigger_event      text        NOT NULL,
  change_id          uuid        NOT NULL,
  reason             text        NOT NULL,
  detail             jsonb       NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (automation_id, trigger_id, change_id)
);

-- Skips of one automation, newest first.
CREATE INDEX automation_skips_newest ON automation_skips (automation_id, created_at DESC);
