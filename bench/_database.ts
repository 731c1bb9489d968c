// Helpers shared by the benchmarks: a migrated scratch database (BENCH_DATABASE_URL's
// server, or an embedded PostgreSQL), a throughput loop, a wait sampler and a table printer.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { processCpuSeconds } from "./_process.ts";
import { startScratchPostgres } from "../packages/server/src/storage/postgres/scratch-postgres.ts";
import { withClient } from "../packages/server/src/storage/with-client.ts";

const STATEMENT_STATS_SETTINGS = {
  shared_preload_libraries: "pg_stat_statements",
  "pg_stat_statements.track": "all",
  "pg_stat_statements.track_planning": "on",
};

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

/** Units of work a statement profile divides by (e.g. `{ count: 2100, name: "change" }`). */
export interface ProfileUnits {
  count: number;
  name: string;
}

const PROFILE_ORDER = { time: "total_exec_time + total_plan_time", calls: "ours.calls", planning: "total_plan_time" } as const;

/**
 * The statements that took the most execution time since the last reset (or, `by: "calls"`,
 * that ran most often: the round trips a cheap statement costs the client show there; `by:
 * "planning"`, that took the most planning time, with plans per call): calls,
 * total ms, planning ms (track_planning), rows, WAL, text; with `units`, also calls per unit and
 * a first line summing every statement.
 */
export async function statementProfile(pool: pg.Pool, limit = 15, units?: ProfileUnits, by: "time" | "calls" | "planning" = "time"): Promise<string> {
  const { rows } = await pool.query<{ calls: string; total: number; mean: number; plan: number; plans: string; rows: string; wal: string; query: string }>(
    `WITH ours AS (SELECT * FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
     SELECT * FROM (
       SELECT calls::text, total_exec_time AS total, mean_exec_time AS mean, total_plan_time AS plan, plans::text, rows::text, wal_bytes::text AS wal, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM ours ORDER BY ${PROFILE_ORDER[by]} DESC LIMIT $1) top
     UNION ALL
     SELECT sum(calls)::text, sum(total_exec_time), sum(total_exec_time) / greatest(sum(calls), 1), sum(total_plan_time), sum(plans)::text, sum(rows)::text, sum(wal_bytes)::text, '(all statements)'
     FROM ours HAVING $2`,
    [limit, units !== undefined],
  );
  const ordered = units ? [rows.at(-1)!, ...rows.slice(0, -1)] : rows;
  return table(
    ordered.map((row) => ({
      calls: row.calls,
      ...(units ? { [`calls/${units.name}`]: (Number(row.calls) / units.count).toFixed(2) } : {}),
      "total ms": row.total.toFixed(0),
      ...(units ? { [`ms/${units.name}`]: (row.total / units.count).toFixed(3) } : {}),
      "mean ms": row.mean.toFixed(3),
      "plan ms": row.plan.toFixed(0),
      ...(units ? { [`plans/${units.name}`]: (Number(row.plans) / units.count).toFixed(2) } : {}),
      // 1.00: planned afresh at every call (unnamed, or a custom plan each time).
      ...(by === "planning" ? { "plans/call": (Number(row.plans) / Math.max(Number(row.calls), 1)).toFixed(2) } : {}),
      rows: row.rows,
      "WAL kB": (Number(row.wal) / 1024).toFixed(0),
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

/** Rows inserted, updated and deleted in the pool's database so far (pg_stat_database, reported like commits). */
export async function rowsWritten(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT (tup_inserted + tup_updated + tup_deleted)::text AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(rows[0]!.n);
}

/** Statements run in the pool's database so far, by pg_stat_statements (a database opened with statementStats). */
export async function statementsExecuted(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT coalesce(sum(calls), 0)::text AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
  );
  return Number(rows[0]!.n);
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
      // Named: planned once per connection, as it runs ~50 times a second at the default period.
      const { rows } = await pool.query<{ wait: string; n: number }>({
        name: "bench_sample_database_waits",
        text: `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'running') ELSE state END AS wait, count(*)::int AS n
         FROM pg_stat_activity WHERE datname = current_database() AND state NOT IN ('idle', 'disabled') AND pid <> pg_backend_pid() GROUP BY 1`,
      });
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

/**
 * CPU seconds so far of each process of the PostgreSQL server behind `pool` (when it runs on
 * this machine), keyed `role pid`: a client backend's role is its application_name, any other
 * process's its backend_type (walwriter, checkpointer, autovacuum worker…). Two snapshots'
 * difference (cpuByRole) tells which connection's work, or which housekeeping, took the time.
 */
export async function databaseProcessCpu(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ pid: number; role: string }>(
    `SELECT pid, CASE WHEN backend_type = 'client backend' THEN coalesce(nullif(application_name, ''), 'unnamed client') ELSE backend_type END AS role
     FROM pg_stat_activity`,
  );
  const cpu = new Map<string, number>();
  const before = process.cpuUsage();
  for (const { pid, role } of rows) {
    try {
      cpu.set(`${role} ${pid}`, processCpuSeconds(pid));
    } catch {
      // ended meanwhile, or the server runs on another machine
    }
  }
  const spent = process.cpuUsage(before);
  samplerCpuMicros += spent.user + spent.system;
  return cpu;
}

/**
 * CPU time (µs) this process spent reading other processes' CPU in databaseProcessCpu: a bench
 * measuring its own process's CPU takes it out. Reading /proc for every server process every
 * 250 ms was ~5 % of automation-latency's measured process (a --cpu-prof of it).
 */
let samplerCpuMicros = 0;
export const databaseCpuSamplerMicros = (): number => samplerCpuMicros;

/**
 * CPU seconds by role that the server's processes spent from now until stopped, read every
 * `everyMs` (a process that starts meanwhile counts from zero; one that ends counts up to its
 * last reading, so a short-lived process may be missed by up to `everyMs` of its time), most first.
 */
export async function trackDatabaseProcessCpu(pool: pg.Pool, everyMs = 250): Promise<{ stop(): Promise<Array<[string, number]>> }> {
  const first = await databaseProcessCpu(pool);
  const latest = new Map(first);
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(everyMs);
      for (const [key, seconds] of await databaseProcessCpu(pool)) latest.set(key, seconds);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      for (const [key, seconds] of await databaseProcessCpu(pool)) latest.set(key, seconds);
      const byRole = new Map<string, number>();
      for (const [key, seconds] of latest) {
        const role = key.slice(0, key.lastIndexOf(" "));
        byRole.set(role, (byRole.get(role) ?? 0) + seconds - (first.get(key) ?? 0));
      }
      return [...byRole].sort((a, b) => b[1] - a[1]);
    },
  };
}

/** Where the WAL is now: pass it to walProfile() after the work. */
export async function walPosition(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
  return rows[0]!.lsn;
}

/**
 * The WAL written since `from` (walPosition), by relation, per unit of work: records, bytes, and
 * the share of full-page images (FPIs: the first change of a page after a checkpoint logs the
 * whole page). Read with pg_walinspect (the bench's own server: it creates the extension).
 *
 * A record touching several pages (an index insert with its heap, a page split) is counted
 * under each page's relation with its whole length, so the rows' bytes overlap; the first line
 * sums each record once. FPI bytes are per page and do not overlap.
 */
export async function walProfile(pool: pg.Pool, from: string, units: ProfileUnits, limit = 20): Promise<string> {
  await pool.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  const { rows } = await pool.query<{ relation: string; records: string; bytes: string; fpis: string; fpiBytes: string }>(
    `WITH blocks AS (
       SELECT b.start_lsn, b.record_length, b.block_fpi_length AS fpi_length,
         coalesce(pg_filenode_relation(b.reltablespace, b.relfilenode)::text, b.resource_manager || ' ' || b.relfilenode) AS relation
       FROM pg_get_wal_block_info($1::pg_lsn, pg_current_wal_insert_lsn(), false) b)
     SELECT relation, records::text, bytes::text AS bytes, fpis::text, "fpiBytes"::text FROM (
       SELECT '(all records)' AS relation, count(*) AS records, sum(record_length) AS bytes, count(*) FILTER (WHERE fpi_length > 0) AS fpis,
         sum(fpi_length) AS "fpiBytes", 0 AS ord
       FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_insert_lsn())
       UNION ALL
       SELECT relation, count(DISTINCT start_lsn), sum(record_length), count(*) FILTER (WHERE fpi_length > 0), sum(fpi_length), 1
       FROM blocks GROUP BY relation) profile
     ORDER BY ord, profile.bytes DESC LIMIT $2`,
    [from, limit + 1],
  );
  const per = (value: string) => Number(value) / units.count;
  return table(
    rows.map((row) => ({
      relation: row.relation,
      [`records/${units.name}`]: per(row.records).toFixed(2),
      [`KB/${units.name}`]: (per(row.bytes) / 1024).toFixed(2),
      [`FPIs/${units.name}`]: per(row.fpis).toFixed(3),
      [`FPI KB/${units.name}`]: (per(row.fpiBytes) / 1024).toFixed(2),
    })),
  );
}
