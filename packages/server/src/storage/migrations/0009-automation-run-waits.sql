-- The entities a waiting `wait_until` step's condition read: a change to any of them wakes
-- the run (the router's automation sink looks them up per routed batch), so a wait ends
-- when its condition can have changed, not when a poll comes round.

CREATE TABLE automation_run_waits (
  run_id      uuid NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
  step_path   text NOT NULL,
  entity_kind text NOT NULL,
  entity_id   text NOT NULL,
  PRIMARY KEY (run_id, step_path, entity_kind, entity_id)
);

-- The router's lookup: the runs waiting on the (kind, id) pairs of one batch.
CREATE INDEX automation_run_waits_entity ON automation_run_waits (entity_kind, entity_id);
