// The public face of @vantage/protocol: schemas, types and the few pure helpers shared by the
// core, the satellite agent and the web UI. Imports nothing of ours.
export { HEARTBEAT_INTERVAL_MS, OFFLINE_THRESHOLD_MS } from "./constants.ts";
export { safeText, unsafeTextReason } from "./safe-text.ts";
export { canonicalUuid, isCanonicalUuid, isUuid, uuidSchema } from "./uuid.ts";
export { didYouMean, httpUrlMessage, issueAt, issueMessage, summarizeIssues, toIssues, validateInput } from "./issues.ts";
export type { Issue, ValidateOptions, Validated } from "./issues.ts";
export { ERROR_CODES } from "./error-codes.ts";
export type { ErrorCode } from "./error-codes.ts";
export { SYSTEM_ACTOR, actorSchema, actorTypeSchema } from "./actor.ts";
export type { Actor, ActorType } from "./actor.ts";
export { CAUSE_TYPES, causeSchema, entityChangedSchema } from "./entity-changed.ts";
export type { Cause, EntityChanged, EntityState } from "./entity-changed.ts";
export * from "./satellite/index.ts";
export * from "./automation/index.ts";
export * from "./check/index.ts";
export * from "./auth/index.ts";
export { compileUserRegex, MAX_USER_REGEX_LENGTH } from "./user-regex.ts";
export { backoffDelayMs, createBackoff } from "./backoff.ts";
export type { Backoff, BackoffPolicy } from "./backoff.ts";
export type { UserRegex, UserRegexResult } from "./user-regex.ts";
export {
  bundleResourceJsonSchema,
  bundleResourceSchema,
  configRequestSchema,
  PLAN_ACTIONS,
  RESOURCE_KINDS,
  SECRET_NAME,
  SECRET_REFERENCE,
  secretNameSchema,
  setSecretSchema,
} from "./config/bundle.ts";
export type { BundleResource, ConfigPlan, ConfigRequest, FieldChange, PlanAction, PlannedChange, ResourceKind } from "./config/bundle.ts";
