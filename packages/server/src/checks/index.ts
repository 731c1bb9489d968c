// Checks: definitions, scheduling, probes' results and their API. Each part adds its public
// exports below in a block of its own.

// ── definitions: the checks table, sealed headers, change notices, and the API ─────────────
// The store also opens a row's definition for the probes (CheckStore.openDefinition) and
// reloads the rows a notice names (CheckStore.rows).
export { CHECKS_CHANNEL, CheckStore } from "./definitions/check-store.ts";
export type { CheckChangeNotice, CheckStoreOptions } from "./definitions/check-store.ts";
export type { CheckRow, CheckView } from "./definitions/check-view.ts";
// The probes' run-time address policy on the core applies the same rule to resolved addresses.
export { ALLOW_PRIVATE_TARGETS_SETTING, isRefusedCoreTarget } from "./definitions/private-targets.ts";
export { createCheckRoutes } from "./api/check-routes.ts";
export type { CheckRoutesOptions } from "./api/check-routes.ts";
// ── end definitions ────────────────────────────────────────────────────────────────────────
