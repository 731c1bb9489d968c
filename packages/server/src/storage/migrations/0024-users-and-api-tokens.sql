-- Users (e-mail, scrypt password hash, role) and named API tokens (stored as SHA-256: they
-- are 256 random bits). The guard reads a token on every request, by its hash, so a revoked
-- (deleted) token is refused by every core process at once — there is no cache to expire.

CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Stored trimmed and lower-cased (the API normalizes), so this is the one-account rule.
  email         text        NOT NULL UNIQUE,
  password_hash text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  disabled_at   timestamptz,
  last_login_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text        NOT NULL,
  token_hash   text        NOT NULL UNIQUE,
  role         text        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  -- The user who created it: a token never outranks its owner, dies with it and stops with
  -- it while disabled. NULL when the admin bootstrap token created it.
  user_id      uuid        REFERENCES users (id) ON DELETE CASCADE,
  -- Who created it, as history records actors.
  created_by   jsonb       NOT NULL,
  expires_at   timestamptz,
  -- Written at most once a minute per token, not on every request.
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);
