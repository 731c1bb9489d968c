// PostgreSQL's notify lock and the run-status NOTIFY (migration 0035): a claim-like transaction
// (a run-status update, commit not waiting for the WAL flush) on one connection while another
// connection commits durable run-status updates back to back, as a batch of run ends does. With
// the trigger's NOTIFY inside both, every claim's commit queues for the cluster-wide notify
// lock, which each end holds until its commit is on disk; with `vantage.announce_after_commit`
// (what the run executor's batched writes set, announcing after commit instead) it does not.
// Each transaction is one round trip (a multi-statement simple query), so what differs is the
// commit's wait. Alternates the two, `--pairs` times, `--transactions` claims each.
import { parseArgs } from "node:util";
import pg from "pg";
import { openBenchDatabase, table } from "./_database.ts";

const { values } = parseArgs({ options: { pairs: { type: "string", default: "4" }, transactions: { type: "string", default: "400" } } });
const pairs = Number(values.pairs);
const transactions = Number(values.transactions);

const ANNOUNCE_AFTER_COMMIT = "SELECT set_config('vantage.announce_after_commit', 'on', true);";
/** One run-status change: the run's error flips, which the trigger records (and notifies, unless told not to). */
const flip = (runId: string) => `UPDATE automation_runs SET error = CASE WHEN error = 'a' THEN 'b' ELSE 'a' END WHERE id = '${runId}';`;

const database = await openBenchDatabase();
const ends = new pg.Client({ connectionString: database.url });
const claims = new pg.Client({ connectionString: database.url });
await ends.connect();
await claims.connect();

try {
  const automation = await ends.query<{ id: string }>(
    `INSERT INTO automations (name, definition, trigger_events) VALUES ('bench: notify lock', '{"mode": "parallel"}', '{}') RETURNING id`,
  );
  const runs = await ends.query<{ id: string }>(
    `INSERT INTO automation_runs (automation_id, automation_version, trigger_id, trigger_event, change_id, trigger, status)
     SELECT $1, 1, 't', 'e', gen_random_uuid(), '{}', 'running' FROM generate_series(1, 2) RETURNING id`,
    [automation.rows[0]!.id],
  );
  const [endRun, claimRun] = runs.rows.map((row) => row.id) as [string, string];

  /** Claim-like commit times in ms, sorted, while the other connection commits durable ends. */
  const measure = async (announceAfterCommit: boolean): Promise<number[]> => {
    const announce = announceAfterCommit ? ANNOUNCE_AFTER_COMMIT : "";
    let stop = false;
    const ending = (async () => {
      while (!stop) await ends.query(`BEGIN; ${announce} ${flip(endRun)} COMMIT`);
    })();
    const times: number[] = [];
    try {
      for (let i = 0; i < transactions; i++) {
        const started = performance.now();
        await claims.query(`BEGIN; SET LOCAL synchronous_commit TO off; ${announce} ${flip(claimRun)} COMMIT`);
        times.push(performance.now() - started);
      }
    } finally {
      stop = true;
      await ending;
    }
    return times.sort((a, b) => a - b);
  };

  const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  const rows: Record<string, string | number>[] = [];
  for (let pair = 1; pair <= pairs; pair++) {
    for (const after of [false, true]) {
      const times = await measure(after);
      rows.push({
        pair,
        "run-status NOTIFY": after ? "announced after commit" : "inside the transaction",
        p50: at(times, 0.5),
        p90: at(times, 0.9),
        p99: at(times, 0.99),
      });
    }
  }
  console.log(`notify-lock: ${database.describe}; claim-like commits (ms, one round trip each) while another connection commits durable run-status changes`);
  console.log(table(rows));
} finally {
  await ends.end();
  await claims.end();
  await database.close();
}
