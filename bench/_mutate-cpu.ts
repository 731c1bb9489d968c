// Client CPU per mutate (apply fn), one writer, sequential: user and system ms per mutate, medians of
// rounds; a per-unit measure that load moves less than rates. Usage:
// node --import tsx bench/_mutate-cpu.ts [--count 4000] [--rounds 5]
import { parseArgs } from "node:util";
import { SYSTEM_ACTOR } from "@vantage/protocol";
import { createNotificationHub } from "../packages/server/src/cluster/index.ts";
import { createEntityRegistry } from "../packages/server/src/entities/index.ts";
import { silentLogger } from "../packages/server/src/log.ts";
import { createPool } from "../packages/server/src/storage/index.ts";
import { benchThingEntity } from "./_bench-things.ts";
import { openBenchDatabase } from "./_database.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "3000" }, rounds: { type: "string", default: "5" } } });
const database = await openBenchDatabase();
const logger = silentLogger();
const pool = createPool(database.url, logger, { max: 4 });
await pool.query(`CREATE TABLE bench_things (id text PRIMARY KEY, value integer NOT NULL);
  INSERT INTO bench_things SELECT 'thing-' || i, 0 FROM generate_series(0, 999) i;`);
const hub = createNotificationHub({ pool, logger });
await hub.start();
const entities = createEntityRegistry({ pool, logger, hub });
const things = entities.defineEntity(benchThingEntity(pool));
const count = Number(values.count);
const run = async (n: number) => {
  for (let i = 0; i < n; i++) {
    const id = `thing-${i % 1000}`;
    await things.mutate({ id, actor: SYSTEM_ACTOR, apply: (tx) => tx.query("UPDATE bench_things SET value = value + 1 WHERE id = $1", [id]) });
  }
};
await run(1000);
const user: number[] = [];
const system: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const before = process.cpuUsage();
  await run(count);
  const used = process.cpuUsage(before);
  user.push(used.user / 1000 / count);
  system.push(used.system / 1000 / count);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `mutate client CPU ms (1 writer, ${values.rounds}×${count}): user ${median(user).toFixed(4)} system ${median(system).toFixed(4)} total ${(median(user) + median(system)).toFixed(4)}  users ${user.map((u) => u.toFixed(3)).join(" ")}`,
);
await hub.stop();
await pool.end();
await database.close();
