// Checks stored straight into the `checks` table, as the definitions store writes them (the
// definition validated, the columns beside it copied), for tests of what reads them.
import { randomUUID } from "node:crypto";
import { type CheckDefinitionInput, checkDefinitionSchema } from "@vantage/protocol";
import type pg from "pg";

const INSERT_CHECK = `
  INSERT INTO checks (name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  RETURNING id`;

/** An http check on the core by default; `fields` override or add to it. Returns its id. */
export async function insertCheck(db: Pick<pg.Pool, "query">, fields: Partial<CheckDefinitionInput> & Record<string, unknown> = {}): Promise<string> {
  const definition = checkDefinitionSchema.parse({ name: `check-${randomUUID()}`, type: "http", url: "http://127.0.0.1:9/", ...fields });
  const { rows } = await db.query<{ id: string }>(INSERT_CHECK, [
    definition.name,
    definition.type,
    definition.enabled,
    definition.intervalSeconds,
    definition.timeoutMs,
    definition.labels,
    definition.runOn.core,
    definition.runOn.satellites ?? null,
    definition,
  ]);
  return rows[0]!.id;
}

/** Stored checks of `count` copies of `fields`, each with a name of its own. */
export function insertChecks(db: Pick<pg.Pool, "query">, count: number, fields: Partial<CheckDefinitionInput> & Record<string, unknown> = {}): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => insertCheck(db, fields)));
}
