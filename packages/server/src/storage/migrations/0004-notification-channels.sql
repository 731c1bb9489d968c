-- Notification channels: where automations send alerts (webhook, Slack, Discord, email).
-- Secret fields live only in `secrets`, sealed by the core's secret box (AES-256-GCM).

CREATE TABLE notification_channels (
  id            uuid        PRIMARY KEY,
  name          text        NOT NULL UNIQUE,
  type          text        NOT NULL CHECK (type IN ('webhook', 'slack', 'discord', 'email')),
  -- The channel's non-secret settings, as the API shows them.
  config        jsonb       NOT NULL,
  -- `v1:<keyId>:<iv>:<tag>:<ciphertext>` of a JSON object of the secret fields, sealed with
  -- the row's id as associated data (a value copied to another row does not decrypt).
  secrets       text        NOT NULL,
  -- The names of the secret fields that are set, so lists never need the key.
  secret_fields text[]      NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
