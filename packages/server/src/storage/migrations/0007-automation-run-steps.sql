-- Run execution: when a run started and ended, why it failed or stopped, and one row per
-- step, written before the next step starts, so a run resumes after its last completed step.

ALTER TABLE automation_runs
  ADD COLUMN started_at  timestamptz,
  ADD COLUMN finished_at timestamptz,
  -- Why a failed run failed (the failing step's path and error).
  ADD COLUMN error       text,
  -- The rendered reason of a `stop` step that ended the run.
  ADD COLUMN stop_reason text;

CREATE TABLE automation_run_steps (
  run_id      uuid        NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
  -- Where the step sits in the definition, e.g. `actions.0`.
  step_path   text        NOT NULL,
  kind        text        NOT NULL,
  -- `waiting`: a durable delay, due at `due_at`; the run's job is scheduled for then.
  status      text        NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed')),
  -- The templated input, secrets masked as <redacted>.
  input       jsonb,
  output      jsonb,
  error       text,
  attempts    integer     NOT NULL DEFAULT 0,
  due_at      timestamptz,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  -- One record per step of a run: a resumed run updates it instead of adding another.
  PRIMARY KEY (run_id, step_path)
);
