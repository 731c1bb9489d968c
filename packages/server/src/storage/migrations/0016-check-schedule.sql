-- The core location's schedule: when each check that runs on the core is next due. Every core
-- process claims due rows with FOR UPDATE SKIP LOCKED and moves them to their next slot in the
-- same statement (checks/scheduling/check-schedule.ts), so each run is claimed by exactly one
-- core and a dead core's checks fall due for the others at their next slot. Triggers on
-- `checks` keep the rows in step with the definitions, in the writing transaction itself.

CREATE TABLE check_schedule (
  check_id      uuid        PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
  -- NULL while the check does not run on the core (disabled, or runOn.core false). The row
  -- stays so that its last run's deadline still holds when the check is scheduled again.
  next_run_at   timestamptz,
  -- The last claim: when, by which core instance, and the time by which that run has ended
  -- (its start plus its timeout). No run of the check is ever due before that deadline.
  claimed_at    timestamptz,
  claimed_by    text,
  run_deadline  timestamptz
);

-- Claims take the earliest due rows, and a sleeping core asks for the earliest next slot.
CREATE INDEX check_schedule_due ON check_schedule (next_run_at) WHERE next_run_at IS NOT NULL;

-- Wakes sleeping schedulers when a slot appears or moves earlier (payload-less, so the
-- notifications of one transaction fold into one).
CREATE FUNCTION check_schedule_follow_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  every interval := make_interval(secs => NEW.interval_seconds);
  -- A fresh slot: a random offset within the interval spreads checks created together.
  fresh timestamptz := now() + random() * every;
BEGIN
  IF NOT (NEW.enabled AND NEW.run_on_core) THEN
    UPDATE check_schedule SET next_run_at = NULL WHERE check_id = NEW.id AND next_run_at IS NOT NULL;
    RETURN NULL;
  END IF;
  INSERT INTO check_schedule AS s (check_id, next_run_at) VALUES (NEW.id, fresh)
  ON CONFLICT (check_id) DO UPDATE SET next_run_at = CASE
    -- Scheduled again: a fresh offset, but never before the last run's deadline.
    WHEN s.next_run_at IS NULL THEN GREATEST(fresh, s.run_deadline)
    -- A new interval: due one new interval after the last run (a shorter one pulls a far slot
    -- in), never later than the slot it had, never before the last run's deadline.
    WHEN TG_OP = 'UPDATE' AND OLD.interval_seconds <> NEW.interval_seconds
      THEN GREATEST(LEAST(s.next_run_at, COALESCE(s.claimed_at + every, fresh)), s.run_deadline)
    ELSE s.next_run_at
  END;
  PERFORM pg_notify('vantage_check_schedule', '');
  RETURN NULL;
END $$;

CREATE TRIGGER check_schedule_on_insert AFTER INSERT ON checks
  FOR EACH ROW EXECUTE FUNCTION check_schedule_follow_checks();
CREATE TRIGGER check_schedule_on_update AFTER UPDATE OF enabled, run_on_core, interval_seconds ON checks
  FOR EACH ROW
  WHEN ((OLD.enabled, OLD.run_on_core, OLD.interval_seconds) IS DISTINCT FROM (NEW.enabled, NEW.run_on_core, NEW.interval_seconds))
  EXECUTE FUNCTION check_schedule_follow_checks();

-- Checks stored before this migration.
INSERT INTO check_schedule (check_id, next_run_at)
SELECT id, now() + random() * make_interval(secs => interval_seconds) FROM checks WHERE enabled AND run_on_core;
