// Helpers shared by the benchmarks: a migrated scratch database (BENCH_DATABASE_URL's
// server, or an embedded PostgreSQL), a throughput loop and a table printer.
import { startScratchPostgres } from "../packages/server/src/storage/scratch-postgres.ts";

export interface BenchDatabase {
  url: string;
  describe: string;
  close(): Promise<void>;
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  const name = `vantage_bench_${process.pid}`;
  const server = await startScratchPostgres({ adminUrl: process.env.BENCH_DATABASE_URL, maxConnections: 200, label: "bench" });
  let url: string;
  try {
    url = await server.createMigratedDatabase(name);
  } catch (error) {
    // Stops an embedded server (and removes its directory) instead of leaving it running.
    await server.stop();
    throw error;
  }
  return {
    url,
    describe: `${server.describe} (synchronous_commit on)`,
    close: async () => {
      await server.dropDatabases(name);
      await server.stop();
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
