-- Reactive entities: the outbox of committed changes, per-field history, and the
-- durable cursors of the consumers that follow the outbox.

CREATE TABLE entity_changes (
  seq            bigserial   PRIMARY KEY,
  change_id      uuid        NOT NULL UNIQUE,
  kind           text        NOT NULL,
  entity_id      text        NOT NULL,
  prev           jsonb,
  next           jsonb,
  delta          jsonb       NOT NULL,
  changed_fields text[]      NOT NULL,
  actor          jsonb       NOT NULL,
  cause          jsonb,
  -- clock_timestamp(), not now(): a mutation that waited for the entity lock is stamped
  -- after the one it waited for, so one entity's history is ordered in time too.
  -- Millisecond precision, like the JavaScript Date every reader turns it into.
  occurred_at    timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
  -- The writing transaction: the router never reads past the oldest transaction
  -- still in flight, so a change that commits late is never skipped.
  xid            xid8        NOT NULL DEFAULT pg_current_xact_id()
);

-- The router's read order (see docs/architecture.md, "Routing without gaps").
CREATE INDEX entity_changes_by_xid ON entity_changes (xid, seq);
-- History of one entity, newest first.
CREATE INDEX entity_changes_by_entity ON entity_changes (kind, entity_id, seq DESC);

CREATE TABLE entity_transitions (
  seq         bigint      NOT NULL REFERENCES entity_changes (seq) ON DELETE CASCADE,
  kind        text        NOT NULL,
  entity_id   text        NOT NULL,
  field       text        NOT NULL,
  from_value  jsonb,
  to_value    jsonb,
  occurred_at timestamptz(3) NOT NULL,
  PRIMARY KEY (seq, field)
);

-- "Since when has this field had its value": the newest transition of one field.
CREATE INDEX entity_transitions_by_field ON entity_transitions (kind, entity_id, field, seq DESC);

CREATE TABLE entity_consumer_cursors (
  consumer   text        PRIMARY KEY,
  last_xid   xid8        NOT NULL DEFAULT '0',
  last_seq   bigint      NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
