// A small owner module for entity tests: a `test_things` table and its entity kind.
import { z } from "zod";
import type { EntityRegistry, SqlClient } from "../../../src/entities/index.ts";

export const thingSchema = z.object({ value: z.number().int().nonnegative(), label: z.string() });
export type Thing = z.infer<typeof thingSchema>;

export const CREATE_THINGS = "CREATE TABLE IF NOT EXISTS test_things (id text PRIMARY KEY, value integer NOT NULL, label text NOT NULL)";

export function defineThings(entities: EntityRegistry, db: SqlClient, kind = "thing") {
  return entities.defineEntity({
    kind,
    schema: thingSchema,
    read: async (ids, tx) => {
      const { rows } = await (tx ?? db).query<{ id: string; value: number; label: string }>("SELECT id, value, label FROM test_things WHERE id = ANY($1)", [
        ids,
      ]);
      return new Map(rows.map((row) => [row.id, { value: row.value, label: row.label }]));
    },
  });
}

export const upsertThing =
  (id: string, value: number, label = "x") =>
  (tx: SqlClient) =>
    tx.query("INSERT INTO test_things (id, value, label) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET value = $2, label = $3", [id, value, label]);

export const incrementThing = (id: string) => (tx: SqlClient) => tx.query("UPDATE test_things SET value = value + 1 WHERE id = $1", [id]);

export const deleteThing = (id: string) => (tx: SqlClient) => tx.query("DELETE FROM test_things WHERE id = $1", [id]);
