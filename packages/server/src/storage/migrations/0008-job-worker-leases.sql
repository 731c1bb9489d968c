-- Leases of graphile-worker pools: each core's automation worker renews its row every few
-- seconds. A row whose lease ran out belongs to a dead process: the lease sweeper (one per
-- cluster) force-unlocks that pool's jobs so a live worker resumes its runs, and deletes it.

CREATE TABLE job_worker_leases (
  -- The graphile-worker pool id: what its jobs' `locked_by` holds.
  worker_id   text        PRIMARY KEY,
  -- The core instance running that pool (for operators and logs).
  instance_id text        NOT NULL,
  lease_until timestamptz NOT NULL
);
