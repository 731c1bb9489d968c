-- Config as code: secrets a bundle names as `${secret:NAME}`, stored once and sealed at rest
-- (as sealed fields: AES-GCM under the instance key, bound to the name), resolved by the core at apply.
-- Only names and who last set them are ever answered.
CREATE TABLE IF NOT EXISTS config_secrets (
  name text PRIMARY KEY,
  sealed jsonb NOT NULL,
  -- The value before the last set: resources applied with it still hold it until the next
  -- apply, so plans keep masking it (as its reference) until then.
  previous_sealed jsonb,
  updated_by jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
