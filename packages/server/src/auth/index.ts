// Authentication and authorization: bearer secrets and their hashes, the admin token, users,
// API tokens and browser sessions, the one API guard and its access policy, the client
// address behind trusted proxies, and the failure limiter that keeps wrong credentials from
// costing a slow hash each.
export { checkSecret, generateSecret, hashPassword, hashToken, isSlowHash, verifyAgainstDecoy, verifySecret } from "./secrets.ts";
export type { VerifyOptions } from "./secrets.ts";
export { createAdminTokenVerifier, ensureAdminToken, MAX_ADMIN_TOKEN_LENGTH } from "./admin-token.ts";
export type { AdminTokenVerifier } from "./admin-token.ts";
export { ADMIN_AUTH_FAILURES, apiGuard, requestAddress, SESSION_COOKIE } from "./api-guard.ts";
export type { AccountCredentials } from "./api-guard.ts";
export { accessErrorsOf, requirementOf } from "./access-policy.ts";
export { ADMIN_ACTOR, principalOf, requestActor } from "./principal.ts";
export type { Principal } from "./principal.ts";
export { createAuthModule } from "./auth-module.ts";
export type { AuthModule, AuthModuleOptions } from "./auth-module.ts";
export { DEFAULT_SESSION_LIFETIME } from "./sessions/session-store.ts";
export type { SessionLifetime } from "./sessions/session-store.ts";
export { generatePassword } from "./users/passwords.ts";
export { createUserStore } from "./users/user-store.ts";
export { createClientAddressOf, createIsHttpsOf, isTrustedProxyEntry } from "./client-address.ts";
export type { ClientAddressOf, IsHttpsOf } from "./client-address.ts";
export { FailureLimiter, FixedWindowCounter } from "./failure-window.ts";
export type { Attempt, FailureLimit } from "./failure-window.ts";
