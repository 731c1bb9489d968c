// Checks: definitions, scheduling, probes' results, satellite assignments and their API. Each
// part adds its public exports below in a block of its own.

// ── assignments: what each satellite runs, pushed as checks and satellites change; results from satellites ──
export { createSatelliteAssignments } from "./assignments/satellite-assignments.ts";
export type { SatelliteAssignments, SatelliteAssignmentsOptions } from "./assignments/satellite-assignments.ts";
export type { OpenDefinition } from "./assignments/satellite-check-index.ts";
export type { StoredCheckRow } from "./assignments/satellite-check-rows.ts";
export { createSatelliteResultSink } from "./assignments/satellite-result-sink.ts";
export type { SubmitResult, SubmittedResult } from "./assignments/satellite-result-sink.ts";
// ── end assignments ──
