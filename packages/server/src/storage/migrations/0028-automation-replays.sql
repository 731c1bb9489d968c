-- Automation replays (src/automations/replay/): one row per replay job, its progress and its
-- result. A replay writes nothing else: this table is its only side effect.
CREATE TABLE IF NOT EXISTS automation_replays (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Who started it ("<actor type>:<actor id>"): one running replay each, and only they read it.
  owner       text        NOT NULL,
  status      text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  request     jsonb       NOT NULL,
  progress    double precision NOT NULL DEFAULT 0,
  changes     bigint      NOT NULL DEFAULT 0,
  result      jsonb,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Touched after every batch: a running row left behind by a dead core goes stale and stops blocking its owner.
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- At most one running replay per owner, even with two requests on two cores at once.
CREATE UNIQUE INDEX IF NOT EXISTS automation_replays_one_running ON automation_replays (owner) WHERE status = 'running';

-- An owner's replays, newest first (and the pruning of old ones).
CREATE INDEX IF NOT EXISTS automation_replays_by_owner ON automation_replays (owner, created_at DESC);
