// Authentication: bearer secrets and their hashes, the admin token and its HTTP guard, the
// client address behind trusted proxies, and the failure limiter that keeps wrong
// credentials from costing a slow hash each.
export { checkSecret, generateSecret, hashToken, isSlowHash, verifyAgainstDecoy, verifySecret } from "./secrets.ts";
export type { VerifyOptions } from "./secrets.ts";
export { createAdminTokenVerifier, ensureAdminToken, MAX_ADMIN_TOKEN_LENGTH } from "./admin-token.ts";
export type { AdminTokenVerifier } from "./admin-token.ts";
export { ADMIN_ACTOR, ADMIN_AUTH_FAILURES, requestClientAddress, requireAdmin } from "./require-admin.ts";
export { createClientAddressOf, isTrustedProxyEntry } from "./client-address.ts";
export type { ClientAddressOf } from "./client-address.ts";
export { FailureLimiter, FixedWindowCounter } from "./failure-window.ts";
export type { Attempt, FailureLimit } from "./failure-window.ts";
