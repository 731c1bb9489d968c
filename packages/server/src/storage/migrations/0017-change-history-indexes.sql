-- Live events and change history (src/events/): the indexes their keyset reads need.

-- A kind filter on the outbox, in the router's order: GET /api/v1/events?kind=… catching up
-- and GET /api/v1/changes?kind=… read one index range per kind from the cursor (xid, seq).
CREATE INDEX entity_changes_by_kind ON entity_changes (kind, xid, seq);

-- GET /api/v1/changes?since=<instant>: the first change stamped at or after an instant.
CREATE INDEX entity_changes_by_time ON entity_changes (occurred_at);

-- "What did this cause": the changes a writer recorded with cause {type, id} (an automation
-- run's steps, an API request), newest first. Most changes have no cause, hence partial.
CREATE INDEX entity_changes_by_cause ON entity_changes ((cause ->> 'type'), (cause ->> 'id'), seq DESC)
  WHERE cause IS NOT NULL;

-- "What did this change cause": the runs and skips a change led to (their unique keys lead
-- with the automation, so they cannot serve a lookup by change).
CREATE INDEX automation_runs_by_change ON automation_runs (change_id) WHERE change_id IS NOT NULL;
CREATE INDEX automation_skips_by_change ON automation_skips (change_id) WHERE change_id IS NOT NULL;
