// Checks: definitions, scheduling, probes' results, satellite assignments and their API. Each
// part adds its public exports below in a block of its own.

// ── definitions: the checks table, sealed headers, change notices, and the API ─────────────
// The store also opens a row's definition for the probes (CheckStore.openDefinition) and
// reloads the rows a notice names (CheckStore.rows).
export { CheckStore } from "./definitions/check-store.ts";
export type { CheckStoreOptions } from "./definitions/check-store.ts";
export { CHECKS_CHANNEL, parseCheckChange } from "./definitions/check-changes.ts";
export type { CheckChangeNotice } from "./definitions/check-changes.ts";
export type { CheckRow, CheckView } from "./definitions/check-view.ts";
export { checkSecrets } from "./definitions/header-secrets.ts";
export { isHeartbeatCheck, validateAnyCheck, validateCheck } from "./definitions/validate-check.ts";
export type { AnyCheckDefinition, ValidateCheckOptions } from "./definitions/validate-check.ts";
// A heartbeat check's ping token: issued with the check (API, config apply) and on rotation.
export { issuePingToken, pingUrlOf } from "./heartbeat/ping-tokens.ts";
// The probes' run-time address policy on the core applies the same rule to resolved addresses.
export { ALLOW_PRIVATE_TARGETS_SETTING, isRefusedCoreTarget } from "./definitions/private-targets.ts";
export { createCheckRoutes } from "./api/check-routes.ts";
export type { CheckRoutesOptions } from "./api/check-routes.ts";
// ── end definitions ────────────────────────────────────────────────────────────────────────

// ── results: storage, batched ingest, rollups, retention and stats reads ──────────────────
export { CHECK_RESULT_STATUSES, checkResultInputSchema, DEFAULT_RESULT_RETENTION, MAX_RESULT_DETAIL_BYTES } from "./results/check-result.ts";
export type { CheckResultInput, CheckResultStatus, ResultRetention } from "./results/check-result.ts";
export { ingestResults, PARTITIONS_AHEAD_DAYS } from "./results/ingest/ingest-results.ts";
export type { DropReason, IngestContext, IngestOutcome } from "./results/ingest/ingest-results.ts";
export type { ResultIngest, SubmitOutcome } from "./results/ingest/result-ingest.ts";
export { listResults, MAX_RESULT_PAGE } from "./results/reads/list-results.ts";
export type { ListResultsOptions, ResultPage, StoredResult } from "./results/reads/list-results.ts";
export { checkStats, uptimeBars } from "./results/reads/check-stats.ts";
export type { CheckStats, LocationStats, SeriesPoint, StatusCounts, UptimeBars } from "./results/reads/check-stats.ts";
export { LATENCY_BUCKET_BOUNDS_MS } from "./results/latency-histogram.ts";
export { resolveRetention, startCheckResults } from "./results/start-check-results.ts";
export type { CheckResults, CheckResultsOptions } from "./results/start-check-results.ts";
// ── end results ────────────────────────────────────────────────────────────────────────────

// ── results API (mount at /api/v1/checks) ─────────────────────────────────────────────────
export { createCheckResultRoutes } from "./api/result-routes.ts";
export type { CheckResultRoutesOptions } from "./api/result-routes.ts";
// ── end results API ──────────────────────────────────────────────────────────────────────

// ── scheduling: the core location (runs once per cluster, spread over the live cores) ──────
export { CORE_LOCATION } from "./scheduling/core-runs.ts";
export type { CoreCheckSource, CoreRunResult, StoredCheck } from "./scheduling/core-runs.ts";
// ── end scheduling ───────────────────────────────────────────────────────────────────────

// ── assignments: what each satellite runs, pushed as checks and satellites change; results from satellites ──
export { createSatelliteAssignments } from "./assignments/satellite-assignments.ts";
export type { SatelliteAssignments, SatelliteAssignmentsOptions } from "./assignments/satellite-assignments.ts";
export type { OpenDefinition } from "./assignments/satellite-check-index.ts";
export type { StoredCheckRow } from "./assignments/satellite-check-rows.ts";
export { createSatelliteResultSink } from "./assignments/satellite-result-sink.ts";
// ── end assignments ──

// ── health: the check-health entity, its triggers, evaluation in the ingest, GET /:id/health ──
export { CHECK_HEALTH_ENTITY_KIND, checkHealthStateSchema } from "./health/check-health-entity.ts";
export type { CheckHealthState } from "./health/check-health-entity.ts";
export { checkHealthTriggers } from "./health/health-triggers.ts";
export type { CheckHealth } from "./health/check-health.ts";
// ── end health ──

// ── maintenance windows: the store, the boundary duty, /api/v1/maintenance-windows ──
export { MaintenanceWindowStore } from "./maintenance-windows/maintenance-window-store.ts";
export type { MaintenanceWindowView } from "./maintenance-windows/maintenance-window-store.ts";
export { createMaintenanceWindowDuty } from "./maintenance-windows/maintenance-window-duty.ts";
export { createMaintenanceWindowRoutes } from "./maintenance-windows/maintenance-window-routes.ts";
// ── end maintenance windows ──

// ── the module's start ─────────────────────────────────────────────────────────────────────
export { startChecks } from "./start.ts";
export type { ChecksModule, ChecksOptions, TrialRunner } from "./start.ts";
