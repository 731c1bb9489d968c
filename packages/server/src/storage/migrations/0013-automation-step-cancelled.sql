-- A step can end `cancelled`: a run that is cancelled, restarted, or ends while a step of it
-- still waits (a parallel branch's delay when a sibling failed) closes its open steps, so no
-- trace shows a step waiting forever.

ALTER TABLE automation_run_steps DROP CONSTRAINT automation_run_steps_status_check;
ALTER TABLE automation_run_steps ADD CONSTRAINT automation_run_steps_status_check
  CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'cancelled'));
