-- Automations: each definition as saved (validated and normalized JSON), its name and the
-- trigger events it listens to, so the router can build its event index in one query.

CREATE TABLE automations (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text        NOT NULL UNIQUE,
  -- The normalized definition (defaults filled in). `enabled` lives in its own column, the
  -- one source of truth; the API merges it into the definition it returns.
  definition     jsonb       NOT NULL,
  enabled        boolean     NOT NULL DEFAULT true,
  -- Distinct trigger event ids of the definition, denormalized at save time for the router.
  trigger_events text[]      NOT NULL,
  -- Bumped on every change, so runs and traces can name the definition they ran.
  version        integer     NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The router's index rebuild: enabled automations listening to given events.
CREATE INDEX automations_trigger_events ON automations USING gin (trigger_events) WHERE enabled;
