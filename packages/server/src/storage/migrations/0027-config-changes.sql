-- Config as code: every change an apply made, with who applied it and why (the apply, its
-- commit), so a resource's history answers "which apply set this, from which commit, by whom".
CREATE TABLE IF NOT EXISTS config_changes (
  apply_id uuid NOT NULL,
  seq integer NOT NULL,
  bundle text NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  resource_id uuid NOT NULL,
  action text NOT NULL,
  changed_paths text[] NOT NULL,
  actor jsonb NOT NULL,
  cause jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (apply_id, seq)
);

-- A resource's history, newest first.
CREATE INDEX IF NOT EXISTS config_changes_resource ON config_changes (kind, resource_id, occurred_at DESC);

-- The history asked by name finds the resource's id first.
CREATE INDEX IF NOT EXISTS config_changes_name ON config_changes (kind, name);
