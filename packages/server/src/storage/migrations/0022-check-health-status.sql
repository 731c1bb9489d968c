-- GET /api/v1/checks?status=…: the checks in one health status, found from check_health by
-- this index (then joined to their checks), so a filter on a rare status (unhealthy) reads
-- only those rows, not the list in name order.

CREATE INDEX check_health_by_status ON check_health (status, check_id);
