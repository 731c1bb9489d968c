-- The satellites each check's health has a location for, as sorted ids: which checks a lost
-- satellite affects (outage folding, `affectedChecks`) without reading every check's
-- locations document. A column of its own rather than an expression over `locations`: it
-- stays equal while the locations do, so an evaluation's update remains HOT.
ALTER TABLE check_health ADD COLUMN location_ids text[] NOT NULL DEFAULT '{}';

UPDATE check_health SET location_ids = ARRAY(SELECT jsonb_object_keys(locations) ORDER BY 1);

CREATE INDEX check_health_location_ids ON check_health USING gin (location_ids);
