// The sse-fanout bench's writer, in a process of its own so its CPU does not share the measured
// core's event loop: another "core" (its own pool and entity registry) committing entity changes
// of kind `bench-thing` at a steady rate (one per transaction, or `--per-commit` together, for a
// machine too loaded to commit 200 transactions a second). Prints one JSON line when warmed up, then one per
// measured change committed ({ seq, at }: the commit's wall time), then a last `{ done }` line.
import { parseArgs } from "node:util";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { createNotificationHub } from "../packages/server/src/cluster/index.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { benchThingEntity } from "./_bench-things.ts";
import { paced } from "./_pacing.ts";

const { values } = parseArgs({
  options: {
    "database-url": { type: "string" },
    rate: { type: "string" },
    "warmup-ms": { type: "string" },
    "measured-ms": { type: "string" },
    "per-commit": { type: "string", default: "1" },
  },
});
const perCommit = Math.min(Number(values["per-commit"]), 100);
/** Transactions per second. */
const rate = Number(values.rate) / perCommit;
const now = () => performance.timeOrigin + performance.now();
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const logger = silentLogger();
const pool = createPool(values["database-url"]!, logger, { max: 8, applicationName: "sse-fanout-writer" });
// Announces through its own notification hub's connection, as a core does.
const hub = createNotificationHub({ pool, logger });
await hub.start();
const registry = createEntityRegistry({ pool, logger, hub });
const things = registry.defineEntity(benchThingEntity(pool));

const UPSERT = "INSERT INTO bench_things SELECT id, $2 FROM unnest($1::text[]) AS id ON CONFLICT (id) DO UPDATE SET value = excluded.value";
let measuring = false;
const inFlight = new Set<Promise<void>>();
const commit = async (i: number) => {
  // A writer that falls behind (a saturated machine) waits rather than piling up connections.
  while (inFlight.size >= 32) await Promise.race(inFlight);
  const ids = Array.from({ length: perCommit }, (_, k) => `thing-${(i * perCommit + k) % 100}`);
  const done = things
    .mutateMany({
      ids,
      actor: SYSTEM_ACTOR,
      apply: (tx) => tx.query(UPSERT, [ids, i]),
    })
    .then((results) => {
      const at = now();
      for (const { change } of results) if (measuring && change) print({ seq: change.seq, at });
    })
    .finally(() => inFlight.delete(done));
  inFlight.add(done);
};

const warm = await paced(rate, Number(values["warmup-ms"]), commit);
await Promise.all(inFlight);
print({ warmedUp: warm });
measuring = true;
await paced(rate, Number(values["measured-ms"]), commit, warm);
await Promise.all(inFlight);
print({ done: true });
await registry.flush();
await hub.stop();
await pool.end();
