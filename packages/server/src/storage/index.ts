// Storage: the PostgreSQL pool, the embedded server, migrations and advisory lock keys.
export { ADVISORY_NAMESPACE, AdvisoryLock, entityKindProblem, hashedLockKey, HashedLockPrefix, hashedPrefixedLockKey, LockKey } from "./advisory-locks.ts";
export { createPool, openDatabase } from "./database.ts";
export type { Database } from "./database.ts";
export { inTransaction, withTransaction } from "./transaction.ts";
export { onRowFoundByKey } from "./found-by-key.ts";
export { isRefusedValue, isUniqueViolation, PostgresError, sqlState } from "./postgres-errors.ts";
export { loadMigrations, migrate, schemaStatus } from "./migrate.ts";
export { jobQueueLogger } from "./job-queue.ts";
export { numberArrayLiteral, textArrayLiteral } from "./array-literal.ts";
export { timeOrderedUuid } from "./time-ordered-uuid.ts";
