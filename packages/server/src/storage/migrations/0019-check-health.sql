-- The check-health entity's own table: one row per check that has been evaluated. The
-- evaluation writes it in the transaction that stores the results causing it (with the
-- entity's history and outbox), so a result and the state it causes commit together.

CREATE TABLE check_health (
  check_id     uuid        PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
  status       text        NOT NULL CHECK (status IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
  -- When the status began.
  since        timestamptz NOT NULL,
  reason       text        NOT NULL,
  flapping     boolean     NOT NULL DEFAULT false,
  maintenance  boolean     NOT NULL DEFAULT false,
  -- Per location (the core, or a satellite's id): its verdict, why it cannot observe, since,
  -- its last result's start, its failure and success streaks, its window and its last problem.
  locations    jsonb       NOT NULL DEFAULT '{}',
  -- The last evaluations, newest last: '1' changed the status, '0' did not (flap detection).
  flap_history text        NOT NULL DEFAULT '',
  -- The instant the first observable location goes stale unless a result comes first, or an
  -- earlier one (never later): kept while still ahead, so a result does not move the index.
  stale_at     timestamptz,
  evaluated_at timestamptz NOT NULL
)
-- Rewritten by every evaluation: room on the page lets each update stay HOT (no index entry
-- changes while stale_at holds, see evaluate-check-health.ts).
WITH (fillfactor = 70);

-- The staleness monitor's query: rows whose stale_at has passed, oldest first. Partial and
-- ordered, so its cost follows the checks that went silent, not the number of checks.
CREATE INDEX check_health_stale ON check_health (stale_at) WHERE stale_at IS NOT NULL;
