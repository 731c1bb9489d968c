// Authentication: bearer secrets and their slow hashes, the admin token and its HTTP guard.
export { generateSecret, hashSecret, verifyAgainstDecoy, verifySecret } from "./secrets.ts";
export { ADMIN_TOKEN_PREFIX, MAX_ADMIN_TOKEN_LENGTH, createAdminTokenVerifier, ensureAdminToken } from "./admin-token.ts";
export type { AdminTokenSource, AdminTokenVerifier, AdminTokenVerifierOptions, EnsureAdminTokenOptions } from "./admin-token.ts";
export { ADMIN_ACTOR, requireAdmin } from "./require-admin.ts";
