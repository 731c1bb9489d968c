// The entity the sse-fanout bench writes and follows: `bench-thing`, one row of `bench_things`
// per id, defined the same way by the measured core and by the writer process.
import type pg from "pg";
import { z } from "zod";

export const CREATE_BENCH_THINGS = "CREATE TABLE IF NOT EXISTS bench_things (id text PRIMARY KEY, value integer NOT NULL)";

export function benchThingEntity(pool: pg.Pool) {
  return {
    kind: "bench-thing",
    schema: z.object({ value: z.number() }),
    read: async (ids: readonly string[], tx?: { query: pg.Pool["query"] }) => {
      const { rows } = await (tx ?? pool).query<{ id: string; value: number }>("SELECT id, value FROM bench_things WHERE id = ANY($1)", [ids]);
      return new Map(rows.map((row) => [row.id, { value: row.value }]));
    },
  };
}
