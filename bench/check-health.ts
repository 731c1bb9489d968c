// Check health: results/s through the ingest with health evaluated in each batch's transaction
// beside the same ingest without it, at 10,000 checks × 3 locations (alternating rounds); then a
// mass outage — every location of every check failing at once — and how many transactions
// recorded it (batches, not one per check).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createTriggerRegistry } from "../packages/server/src/automations/index.ts";
import { createCheckHealth, evaluateHealthOnIngest } from "../packages/server/src/checks/health/check-health.ts";
import { type CheckResultInput, DEFAULT_RESULT_RETENTION } from "../packages/server/src/checks/index.ts";
import { createPartitionCatalog, DAY_MS } from "../packages/server/src/checks/results/partitions.ts";
import { createResultIngest } from "../packages/server/src/checks/results/ingest/result-ingest.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, table, throughput } from "./_database.ts";
import { postmasterOf, processTreeCpuSeconds } from "./_process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    submitters: { type: "string", default: "4000" },
    batch: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "2" },
    checks: { type: "string", default: "10000" },
    // Writes a CPU profile of this process per round (alone-<n>, health-<n>.cpuprofile) there.
    "cpu-prof-dir": { type: "string" },
    // Prints the server's statements of the health rounds (needs pg_stat_statements preloaded: BENCH_DATABASE_URL).
    statements: { type: "boolean", default: false },
    // Leaves the mass outage out (a quicker A/B of the rounds).
    "skip-outage": { type: "boolean", default: false },
  },
});
const ms = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
const submitters = Number(values.submitters);
const maxBatch = Number(values.batch);
const concurrency = Number(values.concurrency);
const checkCount = Number(values.checks);

const database = await openBenchDatabase();
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: 8 });
const partitions = createPartitionCatalog({ pool, logger });
await partitions.ensure("raw", [Date.now() - DAY_MS, Date.now(), Date.now() + DAY_MS]);
const context = { partitions, retention: DEFAULT_RESULT_RETENTION, now: Date.now };

// The checks (http, failing after one result, so the outage turns every check at once) and two
// satellites beside the core, online for the whole run.
const { rows: checks } = await pool.query<{ id: string }>(
  `INSERT INTO checks (name, type, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
   SELECT 'bench-' || n, 'http', 60, 10000, '{}', true, '{"regions":["eu"]}',
          jsonb_build_object('name', 'bench-' || n, 'type', 'http', 'url', 'http://127.0.0.1:9/' || n, 'health', jsonb_build_object('failuresToUnhealthy', 1, 'successesToRecover', 1))
   FROM generate_series(1, $1::integer) AS n RETURNING id`,
  [checkCount],
);
const { rows: satellites } = await pool.query<{ id: string }>(
  `INSERT INTO satellites (name, region, token_hash, last_heartbeat_at, offline_at, last_connection_event)
   SELECT 'sat-' || n, 'eu', 'unused', now() + interval '1 day', now() + interval '2 days', 'connected' FROM generate_series(1, 2) AS n RETURNING id`,
);
const locations = ["core", ...satellites.map((row) => row.id)];

const entities = createEntityRegistry({ pool, logger });
const health = createCheckHealth({ pool, entities, triggers: createTriggerRegistry(), now: Date.now });
const detail = {
  http: { statusCode: 200 },
  timings: { totalMs: 44.9 },
  assertions: [{ path: "assertions[0]", subject: "status", op: "eq", expected: 200, actual: 200, pass: true, onFail: "fail" }],
};
const failed = { reason: "expected status 2xx, got 503", http: { statusCode: 503 }, timings: { totalMs: 12 } };
let sequence = 0;
const resultOf = (i: number, status: "up" | "down"): CheckResultInput => ({
  resultId: randomUUID(),
  checkId: checks[Math.floor(i / locations.length) % checkCount]!.id,
  location: locations[i % locations.length]!,
  startedAt: new Date().toISOString(),
  durationMs: 45,
  status,
  statusCode: status === "up" ? 200 : 503,
  detail: status === "up" ? detail : failed,
});
const nextResult = () => resultOf(sequence++, "up");

const plain = createResultIngest({ pool, logger, context, maxBatch, maxDelayMs: 5, concurrency });
const withHealth = createResultIngest({ pool, logger, context, maxBatch, maxDelayMs: 5, concurrency, inTransaction: evaluateHealthOnIngest(health) });

// Every check-location once, so each check has its record (its first state is a recorded change).
const all = checkCount * locations.length;
const warmUp = Date.now();
await Promise.all(Array.from({ length: all }, (_, i) => withHealth.submit(resultOf(i, "up"))));
const warmUpSeconds = (Date.now() - warmUp) / 1000;

// CPU per result, of this process and of the PostgreSQL server (when it runs on this machine):
// what a result costs whatever else the machine runs, where results/s follows the share of the
// CPUs other processes leave.
const {
  rows: [backend],
} = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
const postmaster = postmasterOf(backend!.pid);
const serverCpu = () => (postmaster === null ? 0 : processTreeCpuSeconds(postmaster));
// WAL the server wrote (every database: nothing else runs on a bench's own server).
const walBytes = async () => {
  const { rows } = await pool.query<{ bytes: string }>("SELECT wal_bytes::text AS bytes FROM pg_stat_wal");
  return Number(rows[0]!.bytes);
};
const profiler = values["cpu-prof-dir"] ? new Session() : undefined;
profiler?.connect();
await profiler?.post("Profiler.enable");
const cpuMsPerResult = async (name: string, run: () => Promise<number>) => {
  await profiler?.post("Profiler.start");
  // The server's CPU read outside this process's window: reading /proc (every process of the
  // machine) is the bench's own cost, not a result's.
  const [server0, wal0] = [serverCpu(), await walBytes()];
  const [process0, started] = [process.cpuUsage(), performance.now()];
  const rate = await run();
  const results = (rate * (performance.now() - started)) / 1000;
  const own = process.cpuUsage(process0);
  const server = serverCpu() - server0;
  const walPerResult = ((await walBytes()) - wal0) / results;
  if (profiler) {
    // The results beside the profile, so its times can be read per result.
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(path.join(values["cpu-prof-dir"]!, `${name}.cpuprofile`), JSON.stringify({ ...profile, results: Math.round(results) }));
  }
  return { rate, ownMs: (own.user + own.system) / 1000 / results, serverMs: (server * 1000) / results, walPerResult };
};

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
type Round = Awaited<ReturnType<typeof cpuMsPerResult>>;
const alone: Round[] = [];
const evaluated: Round[] = [];
const statements = values.statements ? await statementsOfServer() : undefined;
for (let round = 0; round < rounds; round++) {
  alone.push(await cpuMsPerResult(`alone-${round + 1}`, () => throughput(submitters, ms, async () => void (await plain.submit(nextResult())))));
  await statements?.reset();
  evaluated.push(await cpuMsPerResult(`health-${round + 1}`, () => throughput(submitters, ms, async () => void (await withHealth.submit(nextResult())))));
  await statements?.collect();
}

const loadDuring = os
  .loadavg()
  .map((load) => load.toFixed(1))
  .join(", ");

// The mass outage: every location of every check fails in one go.
const massOutage = async () => {
  const {
    rows: [before],
  } = await pool.query<{ seq: string }>("SELECT coalesce(max(seq), 0) AS seq FROM entity_changes");
  const outage = Date.now();
  await Promise.all(Array.from({ length: all }, (_, i) => withHealth.submit(resultOf(i, "down"))));
  const outageSeconds = (Date.now() - outage) / 1000;
  const {
    rows: [recorded],
  } = await pool.query<{ changes: string; transactions: string; unhealthy: string }>(
    `SELECT count(*) AS changes, count(DISTINCT xid) AS transactions, count(*) FILTER (WHERE next ->> 'status' = 'unhealthy') AS unhealthy
     FROM entity_changes WHERE kind = 'check-health' AND seq > $1`,
    [before!.seq],
  );
  return `${all} failing results in ${outageSeconds.toFixed(1)} s → ${recorded!.changes} health changes (${recorded!.unhealthy} unhealthy) in ${recorded!.transactions} transactions`;
};
const outageReport = values["skip-outage"] ? "not measured (--skip-outage)" : await massOutage();
await plain.stop();
await withHealth.stop();
await entities.flush();

const medians = (list: Round[]) => ({
  rate: median(list.map((round) => round.rate)),
  walPerResult: median(list.map((round) => round.walPerResult)),
  ownMs: median(list.map((round) => round.ownMs)),
  serverMs: median(list.map((round) => round.serverMs)),
  cpuMs: median(list.map((round) => round.ownMs + round.serverMs)),
});
const base = medians(alone);
const real = medians(evaluated);
console.log(
  `check-health: ${database.describe}; ${checkCount} checks × ${locations.length} locations; medians of ${rounds} alternating ${values.seconds} s rounds`,
);
console.log(`ingest: ${submitters} concurrent submitters, batches of at most ${maxBatch}, ${concurrency} in flight`);
console.log(
  table([
    ...[
      { path: "ingest alone", ...base },
      { path: "ingest + health evaluation", ...real },
    ].map(({ path, rate, ownMs, serverMs, cpuMs, walPerResult }) => ({
      path,
      "results/s": Math.round(rate),
      "cost vs alone": (base.rate / rate).toFixed(2),
      "CPU µs/result (bench + PostgreSQL)":
        postmaster === null ? "n/a" : `${Math.round(cpuMs * 1000)} (${Math.round(ownMs * 1000)} + ${Math.round(serverMs * 1000)})`,
      "CPU vs alone": postmaster === null ? "n/a" : (cpuMs / base.cpuMs).toFixed(2),
      "WAL bytes/result": Math.round(walPerResult),
    })),
  ]),
);
console.log(`load average while measuring: ${loadDuring}`);
console.log(`warm-up (every check's first state recorded): ${all} results in ${warmUpSeconds.toFixed(1)} s`);
console.log(`mass outage: ${outageReport}`);
if (statements) console.log(`the server's statements in the health rounds, per result:\n${statements.report(evaluated)}`);
profiler?.disconnect();
await pool.end();
await database.close();

/** pg_stat_statements of the health rounds, summed over them (statements of this database only). */
async function statementsOfServer() {
  await pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const totals = new Map<string, { calls: number; ms: number; rows: number; wal: number }>();
  return {
    reset: async () => void (await pool.query("SELECT pg_stat_statements_reset()")),
    async collect() {
      const { rows } = await pool.query<{ query: string; calls: string; ms: number; rows: string; wal: string }>(
        `SELECT query, calls::text, total_exec_time AS ms, rows::text, wal_bytes::text AS wal FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      for (const row of rows) {
        const key = row.query.replace(/\s+/g, " ").slice(0, 90);
        const total = totals.get(key) ?? { calls: 0, ms: 0, rows: 0, wal: 0 };
        totals.set(key, {
          calls: total.calls + Number(row.calls),
          ms: total.ms + row.ms,
          rows: total.rows + Number(row.rows),
          wal: total.wal + Number(row.wal),
        });
      }
    },
    report(rounds: Round[]) {
      const results = rounds.reduce((sum, round) => sum + round.rate * (ms / 1000), 0);
      return table(
        [...totals]
          .sort((a, b) => b[1].ms - a[1].ms)
          .slice(0, 15)
          .map(([query, total]) => ({
            "µs/result": ((total.ms * 1000) / results).toFixed(1),
            "calls/1k": ((total.calls * 1000) / results).toFixed(1),
            "rows/result": (total.rows / results).toFixed(2),
            "WAL B/result": Math.round(total.wal / results),
            query,
          })),
      );
    },
  };
}
