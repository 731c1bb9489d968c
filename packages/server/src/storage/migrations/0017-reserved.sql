-- Placeholder for the health branch only: 0017 belongs to another branch, and migrations must
-- be contiguous, so this keeps 0018 runnable here. Drop this file when merging that branch.
SELECT 1;
