-- Who changed a check, automation, notification channel or maintenance window, when and why:
-- one row per write, inserted in the write's own transaction (API or config apply). Only the
-- names of the changed fields are kept, never values, so no secret can reach this table.
CREATE TABLE IF NOT EXISTS resource_changes (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL,
  resource_id uuid NOT NULL,
  action text NOT NULL,
  revision integer,
  changed_fields text[] NOT NULL,
  actor jsonb NOT NULL,
  cause jsonb,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A resource's history, newest first, one keyset page at a time.
CREATE INDEX IF NOT EXISTS resource_changes_by_resource ON resource_changes (kind, resource_id, seq DESC);
