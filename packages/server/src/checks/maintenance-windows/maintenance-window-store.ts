// The maintenance_windows table: windows saved with their selection copied beside the
// definition and their current or next occurrence (and its boundary) computed at each write;
// every write flips the flags of the checks it concerns in the same transaction.
import { randomUUID } from "node:crypto";
import { type EntityChanged, isUuid, type MaintenanceWindowDefinition, maintenanceWindowSchema } from "@vantage/protocol";
import type pg from "pg";
import { z } from "zod";
import { changedFieldsOf, recordResourceChange, type ResourceAction, type WriteContext } from "../../audit/index.ts";
import type { EntityHandle, SqlClient } from "../../entities/index.ts";
import { VantageError } from "../../errors.ts";
import { isUniqueViolation, withTransaction } from "../../storage/index.ts";
import type { CheckHealthState } from "../health/check-health-entity.ts";
import { syncMaintenanceFlags, type WindowSelection } from "./maintenance-flag.ts";
import { isActive, nextBoundary, type Occurrence, occurrenceAt } from "./window-occurrence.ts";

export const DEFAULT_WINDOW_PAGE = 50;
export const MAX_WINDOW_PAGE = 500;

const COLUMNS = "id, definition, check_ids::text[] AS check_ids, labels, occurrence_start, occurrence_end, revision, created_at, updated_at";
const INSERT = `
  INSERT INTO maintenance_windows (id, name, definition, check_ids, labels, occurrence_start, occurrence_end, next_boundary_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`;
const UPDATE = `
  UPDATE maintenance_windows SET name = $2, definition = $3, check_ids = $4, labels = $5, occurrence_start = $6, occurrence_end = $7,
    next_boundary_at = $8, revision = revision + 1, updated_at = now()
  WHERE id = $1 RETURNING ${COLUMNS}`;
const SELECT = `SELECT ${COLUMNS} FROM maintenance_windows WHERE id = $1`;
const LOCK = `${SELECT} FOR UPDATE`;
const DELETE = `DELETE FROM maintenance_windows WHERE id = $1 RETURNING ${COLUMNS}`;
const ALL = `SELECT ${COLUMNS} FROM maintenance_windows ORDER BY name`;
const PAGE = `SELECT ${COLUMNS} FROM maintenance_windows WHERE ($2::text IS NULL OR name > $2) ORDER BY name LIMIT $1`;
// The windows whose start or end has passed (the boundary duty), through their partial index.
const DUE = `SELECT ${COLUMNS} FROM maintenance_windows WHERE next_boundary_at <= $1 ORDER BY next_boundary_at LIMIT $2 FOR UPDATE SKIP LOCKED`;
const ADVANCE = `UPDATE maintenance_windows SET occurrence_start = $2, occurrence_end = $3, next_boundary_at = $4 WHERE id = $1`;

export interface WindowRow {
  id: string;
  definition: MaintenanceWindowDefinition;
  check_ids: string[];
  labels: Record<string, string> | null;
  occurrence_start: Date | null;
  occurrence_end: Date | null;
  revision: number;
  created_at: Date;
  updated_at: Date;
}

/** A window as the API shows it: its definition, whether it is on now, and its occurrence now or next. */
export const maintenanceWindowViewSchema = z.object({
  id: z.string(),
  ...maintenanceWindowSchema.shape,
  active: z.boolean().describe("Whether an occurrence is on now."),
  occurrence: z.object({ start: z.string(), end: z.string() }).nullable().describe("The occurrence on now, else the next one; null when none is left."),
  revision: z.number().int().describe("Counts the window's writes; a PUT carrying an older one is refused."),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MaintenanceWindowView = z.infer<typeof maintenanceWindowViewSchema>;

/** The fields a read derives: dropped from a PUT body, whatever they say. */
export const DERIVED_WINDOW_FIELDS = ["active", "occurrence"] as const;

export function windowView(row: WindowRow, now: number): MaintenanceWindowView {
  const occurrence = occurrenceOf(row);
  return {
    id: row.id,
    ...row.definition,
    active: isActive(occurrence, now),
    occurrence: occurrence && { start: new Date(occurrence.start).toISOString(), end: new Date(occurrence.end).toISOString() },
    revision: row.revision,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const occurrenceOf = (row: WindowRow): Occurrence | null =>
  row.occurrence_start && row.occurrence_end ? { start: row.occurrence_start.getTime(), end: row.occurrence_end.getTime() } : null;

const selectionOf = (row: WindowRow): WindowSelection => ({ windowId: row.id, checkIds: row.check_ids, labels: row.labels });

/** The occurrence columns ($6, $7, $8) of a schedule at `now`. */
function occurrenceColumns(schedule: Pick<MaintenanceWindowDefinition, "start" | "end" | "recurrence">, now: number): Array<string | null> {
  const occurrence = occurrenceAt(schedule, now);
  const boundary = nextBoundary(occurrence, now);
  const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
  return [iso(occurrence?.start), iso(occurrence?.end), iso(boundary)];
}

function rowValues(id: string, definition: MaintenanceWindowDefinition, now: number): unknown[] {
  return [
    id,
    definition.name,
    JSON.stringify(definition),
    definition.checks.ids ?? [],
    definition.checks.labels ? JSON.stringify(definition.checks.labels) : null,
    ...occurrenceColumns(definition, now),
  ];
}

export function windowNotFound(id: string): VantageError {
  return new VantageError("not_found", "maintenance_window_not_found", `No maintenance window has the id ${JSON.stringify(id)}.`);
}

function nameTaken(name: string, cause: unknown): VantageError {
  return new VantageError("conflict", "maintenance_window_name_taken", `A maintenance window named "${name}" already exists; choose another name.`, { cause });
}

export interface MaintenanceWindowStoreOptions {
  pool: pg.Pool;
  /** The check-health entity, whose `maintenance` flag the windows set. */
  health: Pick<EntityHandle<CheckHealthState>, "mutateMany" | "announce">;
  /** The clock, in epoch milliseconds. */
  now: () => number;
}

/** The write's line in the audit trail, in its transaction (a delete's revision is the one it ends at, as for checks). */
function record(tx: pg.PoolClient, action: ResourceAction, before: WindowRow | null, after: WindowRow, context: WriteContext | undefined): Promise<void> {
  const changedFields = action === "delete" ? [] : changedFieldsOf(before?.definition ?? null, after.definition);
  const revision = action === "delete" ? after.revision + 1 : after.revision;
  return recordResourceChange(tx, { kind: "maintenance-window", resourceId: after.id, action, revision, changedFields, context });
}

export class MaintenanceWindowStore {
  constructor(private readonly options: MaintenanceWindowStoreOptions) {}

  /** Where the windows' audit trail is read. */
  get pool(): pg.Pool {
    return this.options.pool;
  }

  async create(definition: MaintenanceWindowDefinition, context?: WriteContext): Promise<MaintenanceWindowView> {
    return this.write(definition.name, async (tx, now) => {
      const { rows } = await tx.query<WindowRow>(INSERT, rowValues(randomUUID(), definition, now));
      await record(tx, "create", null, rows[0]!, context);
      return { row: rows[0]!, selections: [selectionOf(rows[0]!)] };
    });
  }

  async get(id: string): Promise<MaintenanceWindowView> {
    if (!isUuid(id)) throw windowNotFound(id);
    const { rows } = await this.options.pool.query<WindowRow>(SELECT, [id]);
    if (!rows[0]) throw windowNotFound(id);
    return windowView(rows[0], this.options.now());
  }

  async list(query: { limit: number; after?: string }): Promise<{ windows: MaintenanceWindowView[]; after: string | null }> {
    const { rows } = await this.options.pool.query<WindowRow>(PAGE, [query.limit, query.after ?? null]);
    const now = this.options.now();
    return { windows: rows.map((row) => windowView(row, now)), after: rows.length === query.limit ? rows.at(-1)!.definition.name : null };
  }

  /** Replaces the window with what `edit` makes of the stored one (under its row lock); the checks of both selections are synced. */
  async replace(id: string, edit: (stored: WindowRow) => MaintenanceWindowDefinition, context?: WriteContext): Promise<MaintenanceWindowView> {
    if (!isUuid(id)) throw windowNotFound(id);
    let name: string | undefined;
    return this.write(
      () => name,
      async (tx, now) => {
        const { rows } = await tx.query<WindowRow>(LOCK, [id]);
        if (!rows[0]) throw windowNotFound(id);
        const definition = edit(rows[0]);
        name = definition.name;
        const written = await tx.query<WindowRow>(UPDATE, rowValues(id, definition, now));
        await record(tx, "update", rows[0], written.rows[0]!, context);
        return { row: written.rows[0]!, selections: [selectionOf(rows[0]), selectionOf(written.rows[0]!)] };
      },
    );
  }

  async remove(id: string, context?: WriteContext): Promise<void> {
    if (!isUuid(id)) throw windowNotFound(id);
    await this.write(undefined, async (tx) => {
      const { rows } = await tx.query<WindowRow>(DELETE, [id]);
      if (!rows[0]) throw windowNotFound(id);
      await record(tx, "delete", null, rows[0], context);
      return { row: rows[0], selections: [selectionOf(rows[0])] };
    });
  }

  /** Every window's row, through `db` (config as code reads them all, in a plan's or an apply's transaction). */
  async allRows(db: pg.Pool | pg.PoolClient): Promise<WindowRow[]> {
    return (await db.query<WindowRow>(ALL)).rows;
  }

  /**
   * Writes inside a caller's transaction (a config apply): the row and its checks' flags, as
   * the API's writes do; the returned changes are the caller's to `announce` once it committed.
   */
  async createIn(tx: pg.PoolClient, definition: MaintenanceWindowDefinition, context?: WriteContext): Promise<{ id: string; changes: EntityChanged[] }> {
    const now = this.options.now();
    const { rows } = await tx.query<WindowRow>(INSERT, rowValues(randomUUID(), definition, now));
    await record(tx, "create", null, rows[0]!, context);
    return { id: rows[0]!.id, changes: await this.syncIn(tx, [selectionOf(rows[0]!)], now) };
  }

  async replaceIn(tx: pg.PoolClient, id: string, definition: MaintenanceWindowDefinition, context?: WriteContext): Promise<EntityChanged[]> {
    const now = this.options.now();
    const { rows } = await tx.query<WindowRow>(LOCK, [id]);
    if (!rows[0]) throw windowNotFound(id);
    const written = await tx.query<WindowRow>(UPDATE, rowValues(id, definition, now));
    await record(tx, "update", rows[0], written.rows[0]!, context);
    return this.syncIn(tx, [selectionOf(rows[0]), selectionOf(written.rows[0]!)], now);
  }

  async removeIn(tx: pg.PoolClient, id: string, context?: WriteContext): Promise<EntityChanged[]> {
    const now = this.options.now();
    const { rows } = await tx.query<WindowRow>(DELETE, [id]);
    if (!rows[0]) throw windowNotFound(id);
    await record(tx, "delete", null, rows[0], context);
    return this.syncIn(tx, [selectionOf(rows[0])], now);
  }

  /** Announces the flag flips of writes made in a caller's transaction, once it committed. */
  announce(changes: EntityChanged[]): void {
    this.options.health.announce(changes);
  }

  private syncIn(tx: pg.PoolClient, selections: WindowSelection[], now: number): Promise<EntityChanged[]> {
    return syncMaintenanceFlags(tx as SqlClient, this.options.health, selections, now);
  }

  /**
   * The boundary duty's pass: every window whose start or end has passed moves to its
   * occurrence now or next, and the checks it selects get their flag — in batches of `batch`,
   * each one transaction. Returns how many windows moved.
   */
  async advanceDue(batch = 100): Promise<number> {
    let moved = 0;
    for (;;) {
      const count = await this.inTransaction(async (tx, now) => {
        const { rows } = await tx.query<WindowRow>(DUE, [new Date(now).toISOString(), batch]);
        for (const row of rows) await tx.query(ADVANCE, [row.id, ...occurrenceColumns(row.definition, now)]);
        return { value: rows.length, selections: rows.map(selectionOf) };
      });
      moved += count;
      if (count < batch) return moved;
    }
  }

  private async write(
    name: string | undefined | (() => string | undefined),
    fn: (tx: pg.PoolClient, now: number) => Promise<{ row: WindowRow; selections: WindowSelection[] }>,
  ): Promise<MaintenanceWindowView> {
    try {
      return await this.inTransaction(async (tx, now) => {
        const { row, selections } = await fn(tx, now);
        return { value: windowView(row, now), selections };
      });
    } catch (error) {
      const taken = typeof name === "function" ? name() : name;
      throw taken !== undefined && isUniqueViolation(error) ? nameTaken(taken, error) : error;
    }
  }

  /** Runs `fn` and syncs the flags of the checks its selections name, in one transaction; announces the flips once committed. */
  private async inTransaction<T>(fn: (tx: pg.PoolClient, now: number) => Promise<{ value: T; selections: WindowSelection[] }>): Promise<T> {
    let changes: EntityChanged[] = [];
    const value = await withTransaction(this.options.pool, async (tx) => {
      const now = this.options.now();
      const { value, selections } = await fn(tx, now);
      changes = await this.syncIn(tx, selections, now);
      return value;
    });
    this.options.health.announce(changes);
    return value;
  }
}
