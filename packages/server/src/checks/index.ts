// Checks: definitions, scheduling, probes' results and their API. Each part adds its public
// exports below in a block of its own.

// ── scheduling: the core location (runs once per cluster, spread over the live cores) ──────
export { CHECK_SCHEDULE_CHANNEL } from "./scheduling/check-schedule.ts";
export { createCoreLocation } from "./scheduling/core-location.ts";
export type { CoreLocation, CoreLocationOptions } from "./scheduling/core-location.ts";
export { CORE_LOCATION } from "./scheduling/core-runs.ts";
export type { CoreCheckSource, CoreRunResult, ResultSubmitter, StoredCheck } from "./scheduling/core-runs.ts";
export type { ProbeOutcome, RunProbe } from "./scheduling/probe-run.ts";
export { standInCheckSource, standInResultSink, standInRunProbe } from "./scheduling/stand-ins.ts";
// ── end scheduling ───────────────────────────────────────────────────────────────────────
