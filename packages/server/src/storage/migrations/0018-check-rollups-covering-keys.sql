-- The rollups' keys carry every column (checks/results/check-stats.ts): a check's latency series
-- then reads its range from the key alone, an index-only scan, instead of one heap page per
-- bucket. The rollup worker writes a bucket of every check at a time, so a check's 90 days of
-- hours lay on ~5,000 heap pages (212 ms on a loaded machine); in the key they are ~150 pages.
-- The cost is size: the key now holds a copy of each row (about twice the level's bytes). The
-- rows are never updated in place anyway (the key already INCLUDEd the counts, so no update was
-- HOT), and settled partitions are all-visible once autovacuum passes, which index-only scans need.
-- Built on the partitioned parents, so every partition (and every one attached later) has it.

ALTER TABLE check_rollups_1m DROP CONSTRAINT check_rollups_1m_pkey;
ALTER TABLE check_rollups_1m ADD PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist);
ALTER TABLE check_rollups_1h DROP CONSTRAINT check_rollups_1h_pkey;
ALTER TABLE check_rollups_1h ADD PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist);
ALTER TABLE check_rollups_1d DROP CONSTRAINT check_rollups_1d_pkey;
ALTER TABLE check_rollups_1d ADD PRIMARY KEY (check_id, bucket, location) INCLUDE (total, up, degraded, down, error, sum_ms, min_ms, max_ms, hist);
