// SQL of a run scope's runs (an automation's, or one context's of it), shared by the
// statements that promote queued runs and that lock a scope before an end.

/**
 * The runs of scope `scope` (a row with automation_id and context_key; a null key matches only
 * null) that satisfy `condition` (on alias `r`): one branch per kind of key, so each is served by
 * an index on (automation_id, context_key, …). (`context_key IS NOT DISTINCT FROM` is not
 * indexable: it read every active run of the automation — in a mass outage, thousands per
 * ended run: bench/mass-outage.)
 */
export const runsOfScope = (scope: string, condition: string): string => `
  SELECT r.id, r.created_at FROM automation_runs r
  WHERE ${scope}.context_key IS NULL AND r.automation_id = ${scope}.automation_id AND r.context_key IS NULL AND ${condition}
  UNION ALL
  SELECT r.id, r.created_at FROM automation_runs r
  WHERE ${scope}.context_key IS NOT NULL AND r.automation_id = ${scope}.automation_id AND r.context_key = ${scope}.context_key AND ${condition}`;

/**
 * Whether an end of run `run` (an automation_runs alias) must take its scope's lock, given its
 * automation `automation` (an automations alias): when the automation is in mode queued now, or
 * when the scope still holds queued runs — an earlier version in mode queued left them there.
 * Why the second: two ends of one scope, unlocked and at once, each see the other's run still
 * running and neither promotes, leaving the queued runs with no end left to promote them.
 * The probe reads only automation_runs_queued (migration 0037), empty for most scopes.
 */
export const endLocksScopeSql = (run: string, automation: string): string =>
  `(${automation}.definition->>'mode' = 'queued' OR EXISTS (${runsOfScope(run, "r.status = 'queued'")}))`;
