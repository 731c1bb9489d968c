// Writes checks to the checks table as the definitions store does — the copied columns, a
// revision bumped by every write and the `vantage_checks` notice in the same transaction — for
// tests of what reads checks (schedulers, assignments, results) without going through the API.
import { randomUUID } from "node:crypto";
import { type CheckDefinition, type CheckDefinitionInput, checkDefinitionSchema } from "@vantage/protocol";
import type pg from "pg";
import { CHECKS_CHANNEL } from "../../../src/checks/definitions/check-changes.ts";
import type { NotificationHub } from "../../../src/cluster/index.ts";
import { withTransaction } from "../../../src/storage/index.ts";

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
export function insertChecks(
  db: Pick<pg.Pool, "query">,
  count: number,
  fields: Partial<CheckDefinitionInput> & Record<string, unknown> = {},
): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => insertCheck(db, fields)));
}

export interface SaveCheckOptions {
  /** The check to replace; a new check without it. */
  id?: string;
  /** What is stored as `definition` (default: the definition itself), e.g. with headers sealed. */
  stored?: (definition: CheckDefinition, id: string) => unknown;
}

const UPSERT = `
  INSERT INTO checks (id, name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites, definition)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, type = excluded.type, enabled = excluded.enabled, interval_seconds = excluded.interval_seconds,
    timeout_ms = excluded.timeout_ms, labels = excluded.labels, run_on_core = excluded.run_on_core,
    run_on_satellites = excluded.run_on_satellites, definition = excluded.definition,
    revision = checks.revision + 1, updated_at = now()
  RETURNING id, revision`;

/** Creates or replaces a check (validated by the protocol's schema); its id and new revision. */
export async function saveCheck(pool: pg.Pool, input: CheckDefinitionInput, options: SaveCheckOptions = {}): Promise<{ id: string; revision: number }> {
  const definition = checkDefinitionSchema.parse(input);
  const id = options.id ?? randomUUID();
  const stored = options.stored?.(definition, id) ?? definition;
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string; revision: number }>(UPSERT, [
      id,
      definition.name,
      definition.type,
      definition.enabled,
      definition.intervalSeconds,
      definition.timeoutMs,
      JSON.stringify(definition.labels),
      definition.runOn.core,
      definition.runOn.satellites ? JSON.stringify(definition.runOn.satellites) : null,
      JSON.stringify(stored),
    ]);
    const saved = rows[0]!;
    await tx.query("SELECT pg_notify($1, $2)", [CHECKS_CHANNEL, JSON.stringify(saved)]);
    return saved;
  });
}

export async function deleteCheck(pool: pg.Pool, id: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    // As the store announces a delete: the last revision plus one.
    const { rows } = await tx.query<{ revision: number }>("DELETE FROM checks WHERE id = $1 RETURNING revision + 1 AS revision", [id]);
    await tx.query("SELECT pg_notify($1, $2)", [CHECKS_CHANNEL, JSON.stringify({ id, revision: rows[0]?.revision ?? 1, deleted: true })]);
  });
}

/** An http check on satellites, named `name`, with whatever else is given. */
export function satelliteCheck(
  name: string,
  satellites: NonNullable<CheckDefinitionInput["runOn"]>["satellites"],
  overrides: Partial<CheckDefinitionInput> = {},
): CheckDefinitionInput {
  return { name, type: "http", url: `https://${name}.example.test/`, runOn: { satellites }, ...overrides } as CheckDefinitionInput;
}

/** A core that follows notices: its hub, and what reloads on them (`settled` once no reload is in progress). */
export interface NoticeFollower {
  hub: NotificationHub;
  assignments: { settled(): Promise<void> } | undefined;
}

/**
 * Runs `write` and resolves once every core received its notice on `channel` and reloaded what
 * it named. Subscribed after the core's own listener: on the notice, the core asks for its
 * reload first, so `settled` waits for it.
 */
export async function afterNotices<T>(cores: readonly NoticeFollower[], write: () => Promise<T>, channel = CHECKS_CHANNEL): Promise<T> {
  const listening = await Promise.all(
    cores.map(async (core) => {
      let heard!: () => void;
      const arrived = new Promise<void>((resolve) => (heard = resolve));
      const unsubscribe = await core.hub.subscribe(channel, () => heard());
      return { core, arrived, unsubscribe };
    }),
  );
  const result = await write();
  for (const { core, arrived, unsubscribe } of listening) {
    await arrived;
    await unsubscribe();
    await core.assignments?.settled();
  }
  return result;
}
