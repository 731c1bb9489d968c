-- Browser sessions: the cookie holds a random secret, this table its SHA-256. A session ends
-- at its absolute expiry, after an idle period (last_seen_at, written at most once a minute),
-- at logout, or when its user is disabled or deleted.

CREATE TABLE sessions (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash   text        NOT NULL UNIQUE,
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- Sent back in X-CSRF-Token on every cookie-authenticated write.
  csrf_token   text        NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
-- The sweep of sessions past their absolute expiry reads only those.
CREATE INDEX sessions_expires ON sessions (expires_at);
