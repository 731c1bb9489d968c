// The run executor's writes alone, without the router, the job queue or a webhook: runs of one
// step executed through the run sessions (claim, the step's start, its outcome and the run's
// end) by `--concurrency` loops, each run the writes of a one-webhook run. Prints per run the
// core's CPU, its pg queries (each one ReadyForQuery the backend flushes and pg handles) and
// the CPU of the database sessions that served them: per-unit figures a loaded host distorts
// less than latencies (bench/automation-latency).
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { createRunSessions } from "../packages/server/src/automations/execution/run-session.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, resetStatementStats, statementProfile, table, walPosition } from "./_database.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "1,8" },
    rounds: { type: "string", default: "2" },
    /** Also prints per run the statements' time (planning apart) and the WAL, from pg_stat_statements and the WAL position. */
    "statement-stats": { type: "boolean", default: false },
    /** With --statement-stats, also prints each concurrency's top statements (nested ones, a trigger's, included). */
    "statement-profile": { type: "boolean", default: false },
  },
});
const runCount = Number(values.runs);
const concurrencies = values.concurrency.split(",").map(Number);
const rounds = Number(values.rounds);
const statementStats = values["statement-stats"];

/** User + system CPU of a process, in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // gone
  }
}

// Every pg query this process issues, counted where pg takes it (a statement batch is one).
let queries = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries++;
  return (query as (...all: unknown[]) => unknown).apply(this, args);
} as typeof query;

const database = await openBenchDatabase({ statementStats });
const pool = createPool(database.url, silentLogger(), { max: 12 });
try {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('run-writes', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  const automationId = rows[0]!.id;
  const pendingRuns = async (n: number): Promise<string[]> => {
    const { rows: runs } = await pool.query<{ id: string }>(
      `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger)
       SELECT $1, 1, 't', 'satellite.heartbeat_lost', gen_random_uuid(), '{"payload": {"satelliteId": "x"}}' FROM generate_series(1, $2) RETURNING id`,
      [automationId, n],
    );
    return runs.map((run) => run.id);
  };
  /** The database sessions of the bench's database, and their CPU so far. */
  const sessionCpu = async (): Promise<number> => {
    const { rows: pids } = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
    return pids.reduce((sum, { pid }) => sum + processCpuMs(pid), 0);
  };
  /**
   * The statements' time since the last reset: top-level statements' planning and execution (a
   * nested statement's, a trigger's, is inside its caller's execution), and the planning of
   * statements at every level, with how many plans were made.
   */
  const statementTimes = async () => {
    const { rows: sums } = await pool.query<{ ms: number; planMs: number; plans: string }>(
      `SELECT coalesce(sum(total_exec_time + total_plan_time) FILTER (WHERE toplevel), 0) AS ms, coalesce(sum(total_plan_time), 0) AS "planMs",
         coalesce(sum(plans), 0)::text AS plans
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat%'`,
    );
    return { ms: sums[0]!.ms, planMs: sums[0]!.planMs, plans: Number(sums[0]!.plans) };
  };
  const walBytesSince = async (from: string) =>
    Number((await pool.query<{ n: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS n", [from])).rows[0]!.n);
  const input = { method: "POST", url: "http://127.0.0.1:9/hook", headers: { "Idempotency-Key": randomUUID() }, body: { satelliteId: "x" } };
  const results: Array<Record<string, string | number>> = [];
  for (let round = 1; round <= rounds; round++) {
    for (const concurrency of concurrencies) {
      const sessions = createRunSessions(pool, { connections: 2, announce: () => undefined });
      const runIds = await pendingRuns(runCount);
      // Warm: the connections open and prepare their statements.
      for (const runId of await pendingRuns(20)) await sessions.withClaimedRun(runId, async ({ session }) => void (await session.end({ status: "succeeded" })));
      let next = 0;
      if (statementStats) await resetStatementStats(pool);
      const walFrom = await walPosition(pool);
      const databaseBefore = await sessionCpu();
      const queriesBefore = queries;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < runIds.length) {
            const runId = runIds[next++]!;
            await sessions.withClaimedRun(runId, async ({ session }) => {
              await session.start("0", "webhook", input, null, true);
              session.finish("0", { status: "succeeded", output: { status: 200, body: "" } });
              await session.end({ status: "succeeded" });
            });
          }
        }),
      );
      const elapsed = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const issued = queries - queriesBefore;
      const databaseMs = (await sessionCpu()) - databaseBefore;
      const wal = await walBytesSince(walFrom);
      const statements = statementStats ? await statementTimes() : undefined;
      if (statementStats && values["statement-profile"])
        console.log(`concurrency ${concurrency}\n${await statementProfile(pool, 14, { count: runCount, name: "run" })}`);
      results.push({
        round,
        concurrency,
        "runs/s": (runCount / (elapsed / 1000)).toFixed(0),
        "core CPU ms/run": ((cpu.user + cpu.system) / 1000 / runCount).toFixed(3),
        "pg queries/run": (issued / runCount).toFixed(2),
        "database CPU ms/run": (databaseMs / runCount).toFixed(3),
        "WAL KB/run": (wal / 1024 / runCount).toFixed(2),
        ...(statements
          ? {
              "statement ms/run": (statements.ms / runCount).toFixed(3),
              "planning ms/run": (statements.planMs / runCount).toFixed(3),
              "plans/run": (statements.plans / runCount).toFixed(2),
            }
          : {}),
      });
    }
  }
  console.log(`run-writes: ${database.describe}; ${runCount} runs of one step per row (claim, start, outcome, end), one loop per concurrency`);
  console.log(table(results));
} finally {
  await pool.end();
  await database.close();
}
