// What recording the automation-run-status entity costs per run: runs written as the hot path
// writes them (a router batch's admission, a batch of claims, a batch of ends: one statement
// each, `--batch` runs per statement), once with the run-status triggers (migrations 0031,
// 0033, 0035 and after) and once without them (`session_replication_role = replica` turns
// the triggers off for the session), alternating. Prints per run the database backend's CPU,
// the statements' time and the WAL written: per-unit figures a loaded host distorts less than
// latencies (bench/automation-latency).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { openBenchDatabase, table } from "./_database.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3000" },
    batch: { type: "string", default: "30" },
    rounds: { type: "string", default: "3" },
  },
});
const runCount = Number(values.runs);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);

/** User + system CPU of a process, in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const ADMIT = `
  INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, context_key, status, trigger)
  SELECT $1, 1, 't', 'satellite.connected', gen_random_uuid(), 'c', 'pending', '{"payload": {"satelliteId": "x"}}'
  FROM generate_series(1, $2) RETURNING id`;
const CLAIM = "UPDATE automation_runs SET status = 'running', started_at = coalesce(started_at, clock_timestamp()) WHERE id = ANY($1::uuid[])";
const END = "UPDATE automation_runs SET status = 'succeeded', finished_at = clock_timestamp() WHERE id = ANY($1::uuid[]) AND status = 'running'";

const database = await openBenchDatabase();
const client = new pg.Client({ connectionString: database.url });
await client.connect();
try {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('run-history', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  const automationId = rows[0]!.id;
  const { rows: backend } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const pid = backend[0]!.pid;
  const walLsn = async () => (await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn;
  const walBytesSince = async (from: string) =>
    Number((await client.query<{ n: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS n", [from])).rows[0]!.n);

  /** Admits, claims and ends `runCount` runs, `batchSize` per statement; returns database ms and WAL bytes. */
  const writeRuns = async () => {
    let statementMs = 0;
    const timed = async <T extends pg.QueryResultRow>(text: string, params: unknown[]) => {
      const started = performance.now();
      const result = await client.query<T>(text, params);
      statementMs += performance.now() - started;
      return result;
    };
    const cpuBefore = processCpuMs(pid);
    const walFrom = await walLsn();
    for (let done = 0; done < runCount; done += batchSize) {
      const { rows: admitted } = await timed<{ id: string }>(ADMIT, [automationId, Math.min(batchSize, runCount - done)]);
      const ids = admitted.map((run) => run.id);
      await timed(CLAIM, [ids]);
      await timed(END, [ids]);
    }
    const wal = await walBytesSince(walFrom);
    return { cpuMs: processCpuMs(pid) - cpuBefore, statementMs, wal };
  };

  await client.query("CHECKPOINT");
  await writeRuns(); // warm: plans cached, relations extended
  const results: Array<Record<string, string | number>> = [];
  for (let round = 1; round <= rounds; round++) {
    for (const recorded of [true, false]) {
      await client.query(`SET session_replication_role = ${recorded ? "origin" : "replica"}`);
      const { cpuMs, statementMs, wal } = await writeRuns();
      const { rows: changes } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM entity_changes");
      results.push({
        round,
        "run-status triggers": recorded ? "on" : "off",
        "database CPU ms/run": (cpuMs / runCount).toFixed(3),
        "statement ms/run": (statementMs / runCount).toFixed(3),
        "WAL bytes/run": (wal / runCount).toFixed(0),
        "outbox rows so far": changes[0]!.n,
      });
    }
  }
  console.log(
    `run-history: ${database.describe}; ${runCount} runs per row, ${batchSize} per statement (admit, claim, end), each statement its own transaction`,
  );
  console.log(table(results));
} finally {
  await client.end();
  await database.close();
}
