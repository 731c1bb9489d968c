-- Config as code: secrets a bundle names as `${secret:NAME}`, stored once and sealed at rest
-- (as sealed fields: AES-GCM under the instance key, bound to the name), resolved by the core at apply.
-- Only names and who last set them are ever answered.
CREATE TABLE IF NOT EXISTS config_secrets (
  name text PRIMARY KEY,
  sealed jsonb NOT NULL,
  updated_by jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
