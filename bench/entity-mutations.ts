// Entity mutations per second (one transaction with the owner's write, outbox row and
// transitions; the owner's write as a function, then as one statement) beside a raw baseline:
// a single-row UPDATE + INSERT per transaction, on the same database, with the same number of
// writers; with --same-rows also beside the rows a mutate writes, written by hand. Prints the
// CPU each costs this process and the database per transaction.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { createNotificationHub } from "../packages/server/src/cluster/index.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool, withTransaction } from "../packages/server/src/storage/index.ts";
import { benchThingEntity } from "./_bench-things.ts";
import { openBenchDatabase, table, throughput } from "./_database.ts";
import { sampleProcessTreeCpu } from "./_process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    writers: { type: "string", default: "1,4,8" },
    entities: { type: "string", default: "1000" },
    // Adds a second baseline: the same rows a mutate writes (outbox row and transition, with
    // their indexes), written by hand one statement at a time as the raw baseline is.
    "same-rows": { type: "boolean", default: false },
  },
});
const ms = Number(values.seconds) * 1000;
const writerCounts = values.writers.split(",").map(Number);
const entityCount = Number(values.entities);

const database = await openBenchDatabase();
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: Math.max(...writerCounts) + 2 });
await pool.query(`
  CREATE TABLE bench_raw (id integer PRIMARY KEY, value integer NOT NULL);
  CREATE TABLE bench_raw_log (id bigserial PRIMARY KEY, row_id integer NOT NULL, value integer NOT NULL, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench_things (id text PRIMARY KEY, value integer NOT NULL);
  INSERT INTO bench_raw SELECT i, 0 FROM generate_series(0, ${entityCount - 1}) i;
  INSERT INTO bench_things SELECT 'thing-' || i, 0 FROM generate_series(0, ${entityCount - 1}) i;`);

// The database's CPU (postmaster and every backend) when it runs on this machine: where the
// time goes on a CPU-bound host is client CPU + database CPU per transaction.
const postmasterPid = await (async () => {
  try {
    const {
      rows: [setting],
    } = await pool.query<{ data_directory: string }>("SHOW data_directory");
    return Number(readFileSync(`${setting!.data_directory}/postmaster.pid`, "utf8").split("\n")[0]);
  } catch {
    return undefined;
  }
})();

// Round trips, counted where pg ends one: a Sync (extended protocol) or a simple query. Counts
// every connection of this process, so a mutate's include its share of the coalesced NOTIFYs.
const { prototype: connection } = createRequire(import.meta.url)("pg/lib/connection.js") as {
  prototype: Record<"sync" | "query", (...args: unknown[]) => unknown>;
};
let roundTrips = 0;
for (const method of ["sync", "query"] as const) {
  const send = connection[method];
  connection[method] = function (this: unknown, ...args: unknown[]) {
    roundTrips++;
    return send.apply(this, args);
  };
}

interface Measured {
  rate: number;
  clientMs: number;
  databaseMs: number;
  roundTrips: number;
}

/** Throughput plus CPU ms per transaction of this process and of the database. */
async function measure(writers: number, work: (writer: number, i: number) => Promise<void>): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const databaseBefore = postmasterPid === undefined ? NaN : sampleProcessTreeCpu(postmasterPid);
  const roundTripsBefore = roundTrips;
  const started = performance.now();
  const rate = await throughput(writers, ms, work);
  const done = (rate * (performance.now() - started)) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const databaseAfter = postmasterPid === undefined ? NaN : sampleProcessTreeCpu(postmasterPid);
  return {
    rate,
    clientMs: (cpu.user + cpu.system) / 1000 / done,
    databaseMs: ((databaseAfter - databaseBefore) * 1000) / done,
    roundTrips: (roundTrips - roundTripsBefore) / done,
  };
}

// Announced as a core announces: NOTIFYs on the hub's own connection, not through the pool.
const hub = createNotificationHub({ pool, logger });
await hub.start();
const entities = createEntityRegistry({ pool, logger, hub });
const things = entities.defineEntity(benchThingEntity(pool));

// Each writer works on its own slice of rows, so the comparison measures cost, not lock waits.
const rowFor = (writer: number, writers: number, i: number) => (writer + i * writers) % entityCount;

/** The outbox row and its transition a mutate of bench_raw would record, in one statement. */
const RAW_SAME_ROWS = `
  WITH change AS (
    INSERT INTO entity_changes (change_id, kind, entity_id, prev, next, delta, changed_fields, actor, cause)
    VALUES (gen_random_uuid(), 'bench-raw', $1, jsonb_build_object('value', $2::int - 1), jsonb_build_object('value', $2::int),
            jsonb_build_object('value', $2::int), '{value}', '{"type":"system","id":"system"}', NULL)
    RETURNING seq, kind, entity_id, prev, next, occurred_at
  )
  INSERT INTO entity_transitions (seq, kind, entity_id, field, from_value, to_value, occurred_at)
  SELECT seq, kind, entity_id, 'value', prev -> 'value', next -> 'value', occurred_at FROM change`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cpuMs = (runs: Measured[]) => `${median(runs.map((run) => run.clientMs)).toFixed(2)} + ${median(runs.map((run) => run.databaseMs)).toFixed(2)}`;
const trips = (runs: Measured[]) => median(runs.map((run) => run.roundTrips)).toFixed(1);
const rows: Array<Record<string, string | number>> = [];
for (const writers of writerCounts) {
  // Alternate the two in short rounds: disk and CPU drift on shared machines hits both alike.
  const raws: Measured[] = [];
  const mutations: Measured[] = [];
  const statementMutations: Measured[] = [];
  const sameRows: Measured[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    raws.push(
      await measure(writers, (writer, i) =>
        withTransaction(pool, async (tx) => {
          const id = rowFor(writer, writers, i);
          await tx.query("UPDATE bench_raw SET value = value + 1 WHERE id = $1", [id]);
          await tx.query("INSERT INTO bench_raw_log (row_id, value) VALUES ($1, $2)", [id, i]);
        }),
      ),
    );
    if (values["same-rows"]) {
      sameRows.push(
        await measure(writers, (writer, i) =>
          withTransaction(pool, async (tx) => {
            const id = rowFor(writer, writers, i);
            const {
              rows: [row],
            } = await tx.query<{ value: number }>("UPDATE bench_raw SET value = value + 1 WHERE id = $1 RETURNING value", [id]);
            await tx.query(RAW_SAME_ROWS, [`raw-${id}`, row!.value]);
          }),
        ),
      );
    }
    mutations.push(
      await measure(writers, async (writer, i) => {
        const id = `thing-${rowFor(writer, writers, i)}`;
        await things.mutate({ id, actor: SYSTEM_ACTOR, apply: (tx) => tx.query("UPDATE bench_things SET value = value + 1 WHERE id = $1", [id]) });
      }),
    );
    // The same write handed over as one statement: sent with the reads around it.
    statementMutations.push(
      await measure(writers, async (writer, i) => {
        const id = `thing-${rowFor(writer, writers, i)}`;
        await things.mutate({ id, actor: SYSTEM_ACTOR, apply: { text: "UPDATE bench_things SET value = value + 1 WHERE id = $1", values: [id] } });
      }),
    );
  }
  const raw = median(raws.map((run) => run.rate));
  const entity = median(mutations.map((run) => run.rate));
  const statement = median(statementMutations.map((run) => run.rate));
  rows.push({
    writers,
    "raw tx/s": Math.round(raw),
    "raw CPU ms": cpuMs(raws),
    "raw trips": trips(raws),
    "mutate (apply fn)/s": Math.round(entity),
    "fn / raw": (entity / raw).toFixed(2),
    "fn CPU ms": cpuMs(mutations),
    "fn trips": trips(mutations),
    "mutate (statement)/s": Math.round(statement),
    "statement / raw": (statement / raw).toFixed(2),
    "statement CPU ms": cpuMs(statementMutations),
    "statement trips": trips(statementMutations),
    ...(values["same-rows"]
      ? {
          "raw same rows tx/s": Math.round(median(sameRows.map((run) => run.rate))),
          "statement / same rows": (statement / median(sameRows.map((run) => run.rate))).toFixed(2),
          "same rows CPU ms": cpuMs(sameRows),
        }
      : {}),
  });
}
const {
  rows: [count],
} = await pool.query<{ n: string }>("SELECT count(*) AS n FROM entity_changes WHERE kind = 'bench-thing'");

console.log(`entity-mutations: ${database.describe}; medians of ${values.rounds} alternating ${values.seconds} s rounds; ${entityCount} entities`);
console.log(table(rows));
console.log("CPU ms: per transaction, this process + the database (postmaster and backends), medians");
console.log("trips: round trips (Syncs and simple queries) per transaction, all connections (a mutate's include its announcing NOTIFYs)");
console.log(`recorded changes: ${count!.n} (each with its transitions; announced by coalesced NOTIFY on the hub's connection)`);
await entities.flush();
await hub.stop();
await pool.end();
await database.close();
