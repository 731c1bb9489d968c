// A database for a benchmark: BENCH_DATABASE_URL's server, or an embedded PostgreSQL in a
// temporary directory. Migrated, and cleaned up by `close()`.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool, migrate, startEmbeddedPostgres } from "../packages/server/src/storage/index.ts";

export interface BenchDatabase {
  url: string;
  describe: string;
  close(): Promise<void>;
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  const logger = silentLogger();
  const name = `vantage_bench_${process.pid}`;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopServer = async () => {};
  let describe = `BENCH_DATABASE_URL`;
  if (!adminUrl) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "vantage-bench-pg-"));
    const embedded = await startEmbeddedPostgres({ dataDir, logger, database: "postgres", maxConnections: 200 });
    adminUrl = embedded.url;
    describe = "embedded PostgreSQL (synchronous_commit on)";
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const pool = createPool(url, logger, { max: 1 });
  await migrate(pool, { logger });
  await pool.end();
  return {
    url,
    describe,
    close: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await stopServer();
    },
  };
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
