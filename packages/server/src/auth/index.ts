// Authentication: bearer secrets and their slow hashes, the admin token and its HTTP guard,
// and the failure limiter that keeps wrong credentials from costing a hash each.
export { generateSecret, hashSecret, verifyAgainstDecoy, verifySecret } from "./secrets.ts";
export { ADMIN_TOKEN_PREFIX, MAX_ADMIN_TOKEN_LENGTH, createAdminTokenVerifier, ensureAdminToken } from "./admin-token.ts";
export type { AdminTokenSource, AdminTokenVerifier, AdminTokenVerifierOptions, EnsureAdminTokenOptions } from "./admin-token.ts";
export { ADMIN_ACTOR, DEFAULT_ADMIN_FAILURE_LIMIT, requireAdmin } from "./require-admin.ts";
export type { RequireAdminOptions } from "./require-admin.ts";
export { FailureLimiter, FixedWindowCounter } from "./failure-window.ts";
export type { FailureLimit } from "./failure-window.ts";
