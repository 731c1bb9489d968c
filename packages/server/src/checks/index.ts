// Checks: definitions, scheduling, probes' results and their API. Each part adds its public
// exports below in a block of its own.

// ── definitions: the checks table, sealed headers, change notices, and the API ─────────────
export { CHECKS_CHANNEL, CheckStore, checkView } from "./definitions/check-store.ts";
export type { CheckChangeNotice, CheckPage, CheckRow, CheckView } from "./definitions/check-store.ts";
export { DEFAULT_CHECK_PAGE, MAX_CHECK_PAGE } from "./definitions/check-list.ts";
export type { CheckListQuery } from "./definitions/check-list.ts";
export { ALLOW_PRIVATE_TARGETS_SETTING, isRefusedCoreTarget } from "./definitions/private-targets.ts";
export { createCheckRoutes } from "./api/check-routes.ts";
export type { CheckRoutesOptions } from "./api/check-routes.ts";
// ── end definitions ────────────────────────────────────────────────────────────────────────
