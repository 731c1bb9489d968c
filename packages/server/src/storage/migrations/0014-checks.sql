-- Checks: what to probe, how often and from where. `definition` is the whole validated
-- definition as the API returns it (credential-like headers sealed); the columns beside it
-- are copies of the fields that lists filter on and that routing and scheduling read, kept
-- in step by the one store that writes this table.

CREATE TABLE checks (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Unique as written; "C" collation so a name prefix filter is an index range scan.
  name              text        COLLATE "C" NOT NULL UNIQUE,
  type              text        NOT NULL,
  enabled           boolean     NOT NULL DEFAULT true,
  interval_seconds  integer     NOT NULL CHECK (interval_seconds BETWEEN 10 AND 86400),
  timeout_ms        integer     NOT NULL CHECK (timeout_ms > 0),
  labels            jsonb       NOT NULL DEFAULT '{}',
  -- Runs on the core location (once per cluster).
  run_on_core       boolean     NOT NULL,
  -- The satellite selector `{ ids?, regions?, tags? }`, NULL when no satellite runs it.
  run_on_satellites jsonb,
  definition        jsonb       NOT NULL,
  -- Bumped by every write: an assignment carries it, so a satellite restarts a changed check.
  revision          integer     NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Filters of the list: by type (then name, the list's keyset order), by label (containment).
CREATE INDEX checks_type_name ON checks (type, name);
CREATE INDEX checks_labels ON checks USING gin (labels jsonb_path_ops);
-- What the schedulers and assignment routing read: enabled checks by where they run.
CREATE INDEX checks_on_core ON checks (id) WHERE enabled AND run_on_core;
CREATE INDEX checks_on_satellites ON checks (id) WHERE enabled AND run_on_satellites IS NOT NULL;
