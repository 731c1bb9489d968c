// Authentication: bearer secrets and their hashes, the admin token and its HTTP guard, the
// client address behind trusted proxies, and the failure limiter that keeps wrong
// credentials from costing a slow hash each.
export { checkSecret, generateSecret, hashSecret, hashToken, isSlowHash, verifyAgainstDecoy, verifySecret } from "./secrets.ts";
export type { Verdict, VerifyOptions } from "./secrets.ts";
export { ADMIN_TOKEN_PREFIX, MAX_ADMIN_TOKEN_LENGTH, createAdminTokenVerifier, ensureAdminToken } from "./admin-token.ts";
export type { AdminTokenSource, AdminTokenVerifier, AdminTokenVerifierOptions, EnsureAdminTokenOptions } from "./admin-token.ts";
export { ADMIN_ACTOR, ADMIN_AUTH_FAILURES, DEFAULT_ADMIN_FAILURE_LIMIT, requireAdmin } from "./require-admin.ts";
export type { AdminAuthFailure, RequireAdminOptions } from "./require-admin.ts";
export { createClientAddressOf, isTrustedProxyEntry, parseTrustedProxies } from "./client-address.ts";
export type { ClientAddressOf, ForwardingHeaders } from "./client-address.ts";
export { FailureLimiter, FixedWindowCounter } from "./failure-window.ts";
export type { Attempt, FailureLimit } from "./failure-window.ts";
