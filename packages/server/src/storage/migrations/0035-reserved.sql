-- Intentionally empty. Migration numbers 0035–0039 were handed to branches developed side by
-- side (each may need one); the latency branch's is 0037, and versions must run without gaps,
-- so this file holds the number until the branch that owns it lands. If that branch brings a
-- 0035 of its own, delete this file when merging (loadMigrations refuses two 0035 files loudly).
SELECT 1;
