// The sse-fanout bench's writer, in a process of its own so its CPU does not share the measured
// core's event loop: another "core" (its own pool and entity registry) committing entity changes
// of kind `bench-thing` at a steady rate. Prints one JSON line when warmed up, then one per
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
  },
});
const rate = Number(values.rate);
const now = () => performance.timeOrigin + performance.now();
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const logger = silentLogger();
const pool = createPool(values["database-url"]!, logger, { max: 8, applicationName: "sse-fanout-writer" });
// Announces through its own notification hub's connection, as a core does.
const hub = createNotificationHub({ pool, logger });
await hub.start();
const registry = createEntityRegistry({ pool, logger, hub });
const things = registry.defineEntity(benchThingEntity(pool));

let measuring = false;
const inFlight = new Set<Promise<void>>();
const commit = async (i: number) => {
  // A writer that falls behind (a saturated machine) waits rather than piling up connections.
  while (inFlight.size >= 32) await Promise.race(inFlight);
  const id = `thing-${i % 100}`;
  const done = things
    .mutate({
      id,
      actor: SYSTEM_ACTOR,
      apply: (tx) => tx.query("INSERT INTO bench_things VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = $2", [id, i]),
    })
    .then(({ change }) => {
      if (measuring && change) print({ seq: change.seq, at: now() });
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
