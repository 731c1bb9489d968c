-- Settings: small platform-wide values by key (the admin token's hash, for now).
-- Satellites: which core process holds a satellite's live socket.

CREATE TABLE settings (
  key        text        PRIMARY KEY,
  value      text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The core instance (its instanceId) whose gateway holds this satellite's socket; set on
-- connect, cleared on disconnect. Informational, for operators and the admin API: closing a
-- socket goes through NOTIFY to every process, never through this column.
ALTER TABLE satellites ADD COLUMN connected_instance_id text;
