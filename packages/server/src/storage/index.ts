// Storage: the PostgreSQL pool, the embedded server, migrations and advisory lock keys.
export { ADVISORY_NAMESPACE, AdvisoryLock, entityKindProblem, HashedLockPrefix, hashedLockKey, hashedPrefixedLockKey, LockKey } from "./advisory-locks.ts";
export { createPool, openDatabase } from "./database.ts";
export { withTransaction } from "./transaction.ts";
export { isRefusedValue, isUniqueViolation, PostgresError, sqlState } from "./postgres-errors.ts";
export type { Database, PoolOptions } from "./database.ts";
export { findFreePort, startEmbeddedPostgres } from "./embedded-postgres.ts";
export type { EmbeddedPostgres } from "./embedded-postgres.ts";
export { loadMigrations, migrate, schemaStatus, MIGRATIONS_DIR } from "./migrate.ts";
export type { Migration, MigrateResult, SchemaStatus } from "./migrate.ts";
export { jobQueueLogger, migrateJobQueue } from "./job-queue.ts";
