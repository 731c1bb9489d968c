// Helpers shared by the benchmarks: a migrated scratch database (BENCH_DATABASE_URL's
// server, or an embedded PostgreSQL), a throughput loop, a wait sampler and a table printer.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { startScratchPostgres } from "../packages/server/src/storage/postgres/scratch-postgres.ts";
import { withClient } from "../packages/server/src/storage/with-client.ts";

const STATEMENT_STATS_SETTINGS = { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" };

/** Parses repeated `name=value` flags into settings; throws on a flag without `=`. */
export function parseSettings(flags: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(
    flags.map((flag) => {
      const at = flag.indexOf("=");
      if (at <= 0) throw new Error(`--pg-setting expects name=value, got "${flag}"`);
      return [flag.slice(0, at), flag.slice(at + 1)];
    }),
  );
}

/** Forgets what pg_stat_statements counted so far (a database opened with statementStats). */
export async function resetStatementStats(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT pg_stat_statements_reset()");
}

/**
 * The statements that took the most execution time since the last reset (or, `by: "calls"`,
 * that ran most often: the round trips a cheap statement costs the client show there): calls,
 * total ms, rows, text.
 */
export async function statementProfile(pool: pg.Pool, limit = 15, by: "time" | "calls" = "time"): Promise<string> {
  const { rows } = await pool.query<{ calls: string; total: number; mean: number; rows: string; query: string }>(
    `SELECT calls::text, total_exec_time AS total, mean_exec_time AS mean, rows::text, regexp_replace(query, '\\s+', ' ', 'g') AS query
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY ${by === "calls" ? "pg_stat_statements.calls" : "total_exec_time"} DESC LIMIT $1`,
    [limit],
  );
  return table(
    rows.map((row) => ({
      calls: row.calls,
      "total ms": row.total.toFixed(0),
      "mean ms": row.mean.toFixed(3),
      rows: row.rows,
      statement: row.query.slice(0, 140),
    })),
  );
}

export interface BenchDatabase {
  url: string;
  describe: string;
  close(): Promise<void>;
}

export interface BenchDatabaseOptions {
  /** Server settings of the embedded PostgreSQL (`name=value`), e.g. `synchronous_commit=off`; the bench's server only. */
  settings?: Readonly<Record<string, string>>;
  /** Preloads pg_stat_statements (embedded server only) so statementProfile() can tell where the database's time went. */
  statementStats?: boolean;
}

export async function openBenchDatabase(options: BenchDatabaseOptions = {}): Promise<BenchDatabase> {
  const name = `vantage_bench_${process.pid}`;
  const settings = { ...(options.statementStats ? STATEMENT_STATS_SETTINGS : {}), ...options.settings };
  const server = await startScratchPostgres({ adminUrl: process.env.BENCH_DATABASE_URL, maxConnections: 200, label: "bench", settings });
  let url: string;
  try {
    url = await server.createMigratedDatabase(name);
  } catch (error) {
    // Stops an embedded server (and removes its directory) instead of leaving it running.
    await server.stop();
    throw error;
  }
  if (options.statementStats) {
    await withClient(url, (client) => client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
  }
  const changed = Object.entries(options.settings ?? {}).map(([setting, value]) => `${setting}=${value}`);
  return {
    url,
    describe: `${server.describe} (${changed.length > 0 ? changed.join(", ") : "synchronous_commit on"})`,
    close: async () => {
      await server.dropDatabases(name);
      await server.stop();
    },
  };
}

/** Transactions committed in the pool's database so far (pg_stat_database, updated as sessions report). */
export async function committedTransactions(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ xact: string }>("SELECT xact_commit AS xact FROM pg_stat_database WHERE datname = current_database()");
  return Number(rows[0]!.xact);
}

/** Runs `work` on `writers` concurrent loops for `ms`; returns completed operations per second. */
export async function throughput(writers: number, ms: number, work: (writer: number, i: number) => Promise<void>): Promise<number> {
  const deadline = performance.now() + ms;
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      let done = 0;
      while (performance.now() < deadline) await work(writer, done++);
      return done;
    }),
  );
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000);
}

export function table(rows: Array<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((row) => line(columns.map((c) => String(row[c]))))].join("\n");
}

/**
 * Samples what the database's busy sessions are doing until stopped: the wait of an active
 * one (`running` when on CPU), or its state (`idle in transaction`: between statements of an
 * open transaction, holding its locks); and whatever `extra` counts that the database cannot
 * see (e.g. queries waiting for a pool connection). Returns the mean number in each, most first.
 */
export function sampleDatabaseWaits(
  pool: pg.Pool,
  extra: () => Array<[string, number]> = () => [],
  everyMs = 20,
): { stop(): Promise<Array<[string, number]>> } {
  const totals = new Map<string, number>();
  const add = (wait: string, n: number) => totals.set(wait, (totals.get(wait) ?? 0) + n);
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query<{ wait: string; n: number }>(
        `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'running') ELSE state END AS wait, count(*)::int AS n
         FROM pg_stat_activity WHERE datname = current_database() AND state NOT IN ('idle', 'disabled') AND pid <> pg_backend_pid() GROUP BY 1`,
      );
      for (const { wait, n } of rows) add(wait, n);
      for (const [wait, n] of extra()) add(wait, n);
      samples++;
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...totals].map(([wait, n]): [string, number] => [wait, n / samples]).sort((a, b) => b[1] - a[1]);
    },
  };
}

/** The database's WAL flushes (fsyncs) and commits so far, cluster-wide: read before and after a run, their difference per unit of work shows what waited for the disk. */
export async function walCounters(pool: pg.Pool): Promise<{ fsyncs: number; commits: number }> {
  const { rows } = await pool.query<{ fsyncs: string; commits: string }>(
    `SELECT (SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal')::text AS fsyncs,
            (SELECT sum(xact_commit) FROM pg_stat_database)::text AS commits`,
  );
  return { fsyncs: Number(rows[0]!.fsyncs), commits: Number(rows[0]!.commits) };
}
