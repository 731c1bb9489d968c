-- Config as code: which resources each bundle owns, and the hash of the spec it last applied.
-- A resource's current spec hashing differently means it was edited outside the bundle (drift).
-- Keyed by the resource's id, so a rename keeps its ownership; a resource deleted through the
-- API leaves its row behind, which the next plan of the bundle reads as "create it again".
CREATE TABLE IF NOT EXISTS config_ownership (
  kind text NOT NULL,
  resource_id uuid NOT NULL,
  bundle text NOT NULL,
  name text NOT NULL,
  spec_hash text NOT NULL,
  apply_id uuid NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, resource_id)
);

-- A plan reads one bundle's rows.
CREATE INDEX IF NOT EXISTS config_ownership_bundle ON config_ownership (bundle);
