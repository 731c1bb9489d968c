-- Heartbeat (push) checks: their period (30 s to 365 days) is stored as the interval, and each
-- has one ping token, stored as its SHA-256 only (the token is shown once), looked up by hash.

ALTER TABLE checks DROP CONSTRAINT checks_interval_seconds_check;
ALTER TABLE checks ADD CONSTRAINT checks_interval_seconds_check CHECK (interval_seconds BETWEEN 10 AND 31536000);

CREATE TABLE check_ping_tokens (
  check_id       uuid        PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
  -- sha256(token): a 256-bit random token needs no slow hash; unique, so a ping is one index probe.
  token_hash     bytea       NOT NULL UNIQUE,
  -- Set by /hb/:token/start: the next ping measures the run's duration from it.
  run_started_at timestamptz,
  rotated_at     timestamptz NOT NULL DEFAULT now()
);
