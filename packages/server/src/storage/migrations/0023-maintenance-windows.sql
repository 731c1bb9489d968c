-- Maintenance windows: which checks (ids, a label selector) and when (the definition, as the
-- API shows it), with the occurrence now active or next (computed by the core from the
-- definition's recurrence and time zone) and its next boundary, so the duty that flips the
-- checks' `maintenance` flag reads only the windows whose start or end has passed.

CREATE TABLE maintenance_windows (
  id               uuid        PRIMARY KEY,
  name             text        COLLATE "C" NOT NULL UNIQUE,
  definition       jsonb       NOT NULL,
  -- The selection, copied from the definition: checks by id, and/or every check whose labels contain these.
  check_ids        uuid[]      NOT NULL DEFAULT '{}',
  labels           jsonb,
  -- The occurrence active now or next; both NULL once none is left.
  occurrence_start timestamptz,
  occurrence_end   timestamptz,
  -- occurrence_start while it is ahead, then occurrence_end; NULL once none is left.
  next_boundary_at timestamptz,
  revision         integer     NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (occurrence_end > occurrence_start)
);

-- The boundary duty's query: windows whose next start or end has passed, oldest first.
CREATE INDEX maintenance_windows_next_boundary ON maintenance_windows (next_boundary_at) WHERE next_boundary_at IS NOT NULL;
-- "Is this check in maintenance now" (health evaluation, the flag's sync): the windows whose occurrence has not ended.
CREATE INDEX maintenance_windows_occurrence ON maintenance_windows (occurrence_end, occurrence_start) WHERE occurrence_end IS NOT NULL;
