// Opens the one PostgreSQL the core runs on: the operator's (DATABASE_URL) or an
// embedded server started for this process. Same SQL either way.
import pg from "pg";
import { maskDatabaseUrl } from "../config.ts";
import type { Logger } from "../log.ts";
import { startEmbeddedPostgres } from "./postgres/embedded-postgres.ts";

export interface Database {
  pool: pg.Pool;
  mode: "embedded" | "external";
  /** Connection URL (contains the password: log `maskDatabaseUrl(url)`). */
  url: string;
  /** Ends the pool, then stops the embedded server if this process started one. */
  close(): Promise<void>;
}

export interface PoolOptions {
  max?: number;
  /** Shown in pg_stat_activity, so operators can tell the core's connections apart. */
  applicationName?: string;
  /**
   * Every commit of the pool's connections is one a crash of the database may lose
   * (`synchronous_commit` off for their sessions): for a pool that only writes progress
   * markers, whose loss is the same as a crash of the core just before them. Still atomic,
   * visible at once, and flushed by the next synchronous commit of any session.
   */
  loseableCommits?: boolean;
}

export function createPool(url: string, logger: Logger, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "vantage",
    ...(options.loseableCommits && { options: "-c synchronous_commit=off" }),
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart, network) must not crash the process.
  // After end() the pool closes its clients without waiting; a server stopping meanwhile
  // (the embedded one, on shutdown) terminates them, which is expected, not worth a warning.
  pool.on("error", (error) => {
    if (!pool.ending) logger.warn({ err: error }, "idle database connection failed");
  });
  // A checked-out client whose connection drops between queries emits `error` on itself;
  // the next query rejects anyway, so this only keeps the process alive. (graphile-worker,
  // handed this pool, expects both handlers.)
  pool.on("connect", (client) => {
    client.on("error", (error) => {
      if (!pool.ending) logger.warn({ err: error }, "database connection failed");
    });
  });
  return pool;
}

export async function openDatabase(options: { databaseUrl: string | undefined; dataDir: string; logger: Logger; pool?: PoolOptions }): Promise<Database> {
  const { logger } = options;
  if (options.databaseUrl) {
    logger.info({ mode: "external", url: maskDatabaseUrl(options.databaseUrl) }, "using PostgreSQL");
    const pool = createPool(options.databaseUrl, logger, options.pool);
    return { pool, mode: "external", url: options.databaseUrl, close: () => pool.end() };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, logger });
  logger.info({ mode: "embedded", url: maskDatabaseUrl(embedded.url), dataDir: options.dataDir }, "using PostgreSQL");
  const pool = createPool(embedded.url, logger, options.pool);
  return {
    pool,
    mode: "embedded",
    url: embedded.url,
    close: async () => {
      await pool.end().catch((error: unknown) => logger.warn({ err: error }, "closing the pool failed"));
      await embedded.stop();
    },
  };
}
