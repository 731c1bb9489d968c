// Automation replay throughput: `--changes` recorded satellite-connection changes (seeded with
// one INSERT … SELECT generate_series, not through mutate), of which `--match` % are the
// heartbeat losses the draft listens to, replayed through the real engine (deriver, payload
// mapper, filter, time window, mode, rendered actions). Beside it, the baseline: the same
// batched outbox read with each row turned into a change and derived, and nothing decided.
// Peak memory is sampled after every batch: it must stay flat, not grow with the range.
import { parseArgs } from "node:util";
import { createAutomationCompiler, createTriggerRegistry } from "../packages/server/src/automations/index.ts";
import { replayAutomation } from "../packages/server/src/automations/replay/replay-engine.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "../packages/server/src/entities/outbox/change-row.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { SatelliteService, satelliteTriggers } from "../packages/server/src/satellites/index.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { openBenchDatabase, table } from "./_database.ts";

const { values } = parseArgs({
  options: {
    changes: { type: "string", default: "1000000" },
    match: { type: "string", default: "10" },
    batch: { type: "string", default: "2000" },
  },
});
const changeCount = Number(values.changes);
const everyNth = Math.round(100 / Number(values.match));
const batchSize = Number(values.batch);
const FROM = Date.parse("2026-11-01T00:00:00Z");
const STEP_MS = 600; // 1,000,000 changes span about a week

const database = await openBenchDatabase();
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: 4 });
const entities = createEntityRegistry({ pool, logger });
new SatelliteService({ pool, entities }); // defines the kind and registers its deriver and payload mapper
const triggers = createTriggerRegistry([...satelliteTriggers]);
const compiler = createAutomationCompiler({ triggers, entities });
const compiled = compiler.compile({
  name: "bench",
  mode: "single",
  triggers: [{ event: "satellite.heartbeat_lost", filter: { compare: { left: "trigger.payload.region", op: "==", right: { value: "eu-west" } } } }],
  conditions: [{ time: { after: "06:00", before: "22:00" } }],
  actions: [{ log: { message: "{{ trigger.payload.name }} lost its heartbeat" } }],
});
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));

const seedStarted = performance.now();
await pool.query(
  `INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, occurred_at)
   SELECT gen_random_uuid(), 'satellite-connection', md5('sat' || (i % 1000))::uuid::text, NULL,
     jsonb_build_object('status', CASE WHEN i % $2 = 0 THEN 'offline' ELSE 'online' END, 'name', 'edge-' || (i % 1000),
       'region', CASE WHEN i % 2 = 0 THEN 'eu-west' ELSE 'us-east' END, 'lastSeenAt', '2026-11-01T00:00:00.000Z',
       'lastEvent', CASE WHEN i % $2 = 0 THEN 'heartbeat_lost' ELSE 'connected' END),
     '{"lastEvent": "connected"}'::jsonb, ARRAY['lastEvent', 'status'], '{"type": "system", "id": "system"}'::jsonb,
     $3::timestamptz + i * $4 * interval '1 millisecond'
   FROM generate_series(1, $1) i`,
  [changeCount, everyNth, new Date(FROM), STEP_MS],
);
await pool.query("VACUUM ANALYZE entity_changes");
const seedSeconds = (performance.now() - seedStarted) / 1000;
const to = FROM + (changeCount + 1) * STEP_MS;

const memory = () => {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
};
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function baseline(): Promise<number> {
  let cursor = 0;
  let read = 0;
  for (;;) {
    const { rows } = await pool.query<ChangeRow>(`SELECT ${CHANGE_COLUMNS} FROM entity_changes WHERE seq > $1 ORDER BY seq LIMIT $2`, [cursor, batchSize]);
    for (const row of rows) entities.deriveEvents(changeFromRow(row));
    read += rows.length;
    if (rows.length < batchSize) return read;
    cursor = Number(rows.at(-1)!.seq);
  }
}

async function replay() {
  let peakRss = 0;
  let peakHeap = 0;
  const heapAt: number[] = [];
  const result = await replayAutomation(
    { pool, entities, triggers, logger, batchSize },
    { compiled: compiled.ok ? compiled.compiled : never(), automationId: null, from: FROM, to, now: to },
    async (progress) => {
      const now = memory();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
      if (heapAt.length < 4 && progress.fraction >= (heapAt.length + 1) / 4) heapAt.push(now.heapUsed);
      return true;
    },
  );
  return { result: result!, peakRss, peakHeap, heapAt };
}
function never(): never {
  throw new Error("unreachable");
}

const rows: Array<Record<string, string | number>> = [];
for (let round = 0; round < 2; round++) {
  let started = performance.now();
  const read = await baseline();
  const baseSeconds = (performance.now() - started) / 1000;
  global.gc?.();
  started = performance.now();
  const { result, peakRss, peakHeap, heapAt } = await replay();
  const seconds = (performance.now() - started) / 1000;
  rows.push({
    round: round + 1,
    "baseline changes/s": Math.round(read / baseSeconds),
    "replay changes/s": Math.round(result.changes / seconds),
    ratio: (result.changes / seconds / (read / baseSeconds)).toFixed(2),
    "replay s": seconds.toFixed(1),
    runs: result.runs,
    skips: result.skips,
    "peak rss MB": mb(peakRss),
    "peak heap MB": mb(peakHeap),
    "heap at 25/50/75/100 % MB": heapAt.map(mb).join("/"),
  });
}

console.log(`automation replay: ${changeCount.toLocaleString()} recorded changes, ${values.match} % matching, batches of ${batchSize}`);
console.log(`database: ${database.describe}; seeded in ${seedSeconds.toFixed(1)} s`);
console.log(table(rows));
console.log("goal: ≥ 50,000 changes/s on one core; memory flat across the range (bounded by the batch and the listed decisions)");
await pool.end();
await database.close();
