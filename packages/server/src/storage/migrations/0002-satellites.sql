-- Satellites: the registry (name, region, tags, token hash) and the connection facts the
-- satellite-connection entity is read from. Presence (online/offline) is never stored:
-- it is computed on read from last_heartbeat_at and the satellite's own threshold.

CREATE TABLE satellites (
  id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name                  text        NOT NULL UNIQUE,
  region                text        NOT NULL,
  tags                  jsonb       NOT NULL DEFAULT '[]',
  capabilities          jsonb       NOT NULL DEFAULT '[]',
  -- Only a slow salted hash; the token itself is shown once and never stored.
  token_hash            text        NOT NULL,
  last_heartbeat_at     timestamptz,
  -- NULL means the platform default (OFFLINE_THRESHOLD_MS), applied in code so the default
  -- has one definition; the range an operator may choose is checked by the API.
  offline_threshold_ms  integer     CHECK (offline_threshold_ms > 0),
  -- NULL: never connected, so the entity has no state and the first connect is a create.
  last_connection_event text        CHECK (last_connection_event IN ('connected', 'disconnected', 'heartbeat_lost')),
  -- The connection that owns the row: a close from any other (stale) session changes nothing.
  session_id            uuid,
  version               text,
  -- last_heartbeat_at + the effective threshold: the instant this satellite reads offline.
  -- Denormalized because the monitor must find expired rows through an index, and
  -- "heartbeat + per-row threshold < now" cannot use one. It cannot be a generated
  -- column (timestamptz + interval is not immutable, and the default threshold lives in
  -- code), so every writer of last_heartbeat_at or offline_threshold_ms sets it too.
  offline_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  -- Guards against a writer that forgets offline_at: it exists exactly when a heartbeat does.
  CONSTRAINT satellites_offline_at_follows_heartbeat CHECK ((offline_at IS NULL) = (last_heartbeat_at IS NULL)),
  -- A connected row always has a heartbeat, so the monitor's index below sees every one.
  CONSTRAINT satellites_connected_has_heartbeat CHECK (last_connection_event IS DISTINCT FROM 'connected' OR last_heartbeat_at IS NOT NULL)
);

-- The heartbeat monitor's query: connected rows whose offline_at has passed. Partial, so
-- it holds only connected satellites, and ordered by expiry, so the scan reads the expired
-- entries and stops: its cost follows the number of expired satellites, not the fleet.
CREATE INDEX satellites_expiring ON satellites (offline_at) WHERE last_connection_event = 'connected';
