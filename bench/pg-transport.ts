// What a round trip to the embedded PostgreSQL costs over loopback TCP and over its Unix socket
// (the URL's `host`: embedded-postgres.ts, socketDirectoryFor): `--queries` prepared
// `SELECT $1::int` one after another on one connection per transport, alternated `--pairs` times.
// Reports wall time per round trip and the CPU per round trip of this client (node-postgres)
// and of its backend (/proc/<pid>/stat; the server runs on this host).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { openBenchDatabase, table } from "./_database.ts";

const { values } = parseArgs({ options: { pairs: { type: "string", default: "3" }, queries: { type: "string", default: "20000" } } });
const pairs = Number(values.pairs);
const queries = Number(values.queries);
for (const [flag, value] of [
  ["--pairs", pairs],
  ["--queries", queries],
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${flag} must be a whole number ≥ 1`);
    process.exit(2);
  }
}

/** A process's user + system CPU so far, in µs (clock ticks of 10 ms: meaningful over thousands of queries). */
function processCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const database = await openBenchDatabase();
const socketUrl = new URL(database.url);
if (!socketUrl.searchParams.has("host")) {
  console.error("pg-transport compares the embedded server's two transports: unset BENCH_DATABASE_URL (or its path left no room for a socket)");
  await database.close();
  process.exit(2);
}
const tcpUrl = new URL(database.url);
tcpUrl.searchParams.delete("host");

async function measure(url: URL): Promise<{ wallMicros: number; clientMicros: number; backendMicros: number }> {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const backend = rows[0]!.pid;
    const ask = (i: number) => client.query({ name: "round_trip", text: "SELECT $1::int", values: [i] });
    for (let i = 0; i < 2000; i++) await ask(i); // warm: prepared, JIT-compiled
    const cpuBefore = process.cpuUsage();
    const backendBefore = processCpuMicros(backend);
    const started = performance.now();
    for (let i = 0; i < queries; i++) await ask(i);
    const wall = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      wallMicros: (wall * 1000) / queries,
      clientMicros: (cpu.user + cpu.system) / queries,
      backendMicros: (processCpuMicros(backend) - backendBefore) / queries,
    };
  } finally {
    await client.end();
  }
}

const rows: Array<Record<string, string>> = [];
try {
  for (let pair = 1; pair <= pairs; pair++) {
    for (const [transport, url] of [
      ["loopback TCP", tcpUrl],
      ["Unix socket", socketUrl],
    ] as const) {
      const { wallMicros, clientMicros, backendMicros } = await measure(url);
      rows.push({
        pair: String(pair),
        transport,
        "µs per round trip": wallMicros.toFixed(1),
        "client CPU µs": clientMicros.toFixed(1),
        "backend CPU µs": backendMicros.toFixed(1),
      });
    }
  }
} finally {
  await database.close();
}
console.log(`pg-transport: ${database.describe}, ${queries} prepared SELECT $1::int per run, one connection, alternated ${pairs}×`);
console.log(table(rows));
