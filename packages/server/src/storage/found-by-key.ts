// A condition on rows a statement finds by their key, kept from choosing a partial index.
//
// A partial index over the rows in some state (runs not yet ended, satellites connected) is
// analyzed while few rows are in that state, so the planner takes it for nearly empty. A
// statement that names rows by key and also tests that state (`id = $1 AND status = 'running'`,
// or a join with an unnest of ids) can be answered from the partial index, and then reads all of
// it — every row in the state — instead of probing the key once per row. When many rows enter
// the state at once (a mass outage's runs, a fleet reconnecting), each such statement reads them
// all until autovacuum analyzes again (bench/mass-outage with a day of run history: the database's
// CPU per run 0.44 → 0.98–1.23 ms; docs/benchmarks/2026-12-04-run-lookups-by-id.md).
//
// Wrapped in coalesce the condition no longer implies the index's predicate, so only the key can
// serve the lookup. In a WHERE clause its meaning is unchanged: NULL and false both filter out.

/** `condition` (SQL, on a row found by its key) in a form that proves no partial index's predicate. */
export const onRowFoundByKey = (condition: string): string => `coalesce(${condition}, false)`;
