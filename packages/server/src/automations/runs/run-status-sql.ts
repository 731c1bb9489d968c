// The status test of runs named by their ids.
//
// automation_runs_active and automation_runs_queued index only runs that have not ended, and
// the table is analyzed while it holds mostly ended ones: the planner then takes those indexes
// for nearly empty. A statement that names runs by id and also asks `status = 'running'` can be
// answered from either index, so it reads the whole index — every active run — instead of
// probing the primary key once per run; a statement over an unnest of ids hashes them all. In a
// mass outage thousands of runs are active before autovacuum analyzes again, and every claim,
// step start, end and the router's wake probe read all of them (bench/mass-outage with a day of
// seeded history: 0.44 → 0.98–1.23 database CPU ms per run; the claim alone 10×).
//
// Wrapped in coalesce the test no longer implies those indexes' predicates, so the planner can
// only look the runs up by id. Its meaning is unchanged: status is NOT NULL.
import type { RunStatus } from "./automation-runs.ts";

/** SQL true when `column` (a run's status, e.g. `r.status`) is one of `statuses`; for runs found by id. */
export const statusOfRunFoundById = (column: string, statuses: readonly RunStatus[]): string =>
  `coalesce(${column} IN (${statuses.map((status) => `'${status}'`).join(", ")}), false)`;
