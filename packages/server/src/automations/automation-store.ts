// The automations table: saving compiled definitions, reading them back, enabling and
// disabling. Every write NOTIFYs `vantage_automations_changed` in its own transaction.
import type { AutomationDefinition } from "@vantage/protocol";
import type pg from "pg";
import type { SqlClient } from "../entities/index.ts";
import { VantageError } from "../errors.ts";
import { isUniqueViolation, withTransaction } from "../storage/index.ts";
import type { CompiledAutomation } from "./compile-automation.ts";

/** NOTIFY channel: some automation was created, updated, deleted, enabled or disabled. */
export const AUTOMATIONS_CHANGED_CHANNEL = "vantage_automations_changed";

export type AutomationChangeOp = "created" | "updated" | "deleted" | "enabled" | "disabled";

/** The NOTIFY payload on AUTOMATIONS_CHANGED_CHANNEL. */
export interface AutomationChangeNotice {
  id: string;
  op: AutomationChangeOp;
}

export type AutomationView = AutomationDefinition & {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
};

interface AutomationRow {
  id: string;
  definition: Omit<AutomationDefinition, "enabled">;
  enabled: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, definition, enabled, version, created_at, updated_at";
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toView(row: AutomationRow): AutomationView {
  return { id: row.id, ...row.definition, enabled: row.enabled, version: row.version, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() };
}

function notFound(id: string): VantageError {
  return new VantageError("not_found", "automation_not_found", `No automation with id ${id}.`);
}

/** What is stored: the normalized definition without `enabled` (it has its own column). */
function storedParts(compiled: CompiledAutomation) {
  const { enabled, ...definition } = compiled.definition;
  return { enabled, definition: JSON.stringify(definition), name: definition.name, events: compiled.eventIds };
}

async function notify(tx: SqlClient, notice: AutomationChangeNotice): Promise<void> {
  await tx.query("SELECT pg_notify($1, $2)", [AUTOMATIONS_CHANGED_CHANNEL, JSON.stringify(notice)]);
}

function nameTaken(error: unknown, name: string): unknown {
  if (!isUniqueViolation(error)) return error;
  return new VantageError("conflict", "automation_name_taken", `An automation named "${name}" already exists; choose another name.`, { cause: error });
}

export class AutomationStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(compiled: CompiledAutomation): Promise<AutomationView> {
    const parts = storedParts(compiled);
    try {
      return await withTransaction(this.pool, async (tx) => {
        const { rows } = await tx.query<AutomationRow>(
          `INSERT INTO automations (name, definition, enabled, trigger_events) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
          [parts.name, parts.definition, parts.enabled, parts.events],
        );
        await notify(tx, { id: rows[0]!.id, op: "created" });
        return toView(rows[0]!);
      });
    } catch (error) {
      throw nameTaken(error, parts.name);
    }
  }

  async list(): Promise<AutomationView[]> {
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations ORDER BY name`);
    return rows.map(toView);
  }

  async get(id: string): Promise<AutomationView> {
    if (!UUID_PATTERN.test(id)) throw notFound(id);
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations WHERE id = $1`, [id]);
    if (!rows[0]) throw notFound(id);
    return toView(rows[0]);
  }

  /** Replaces the whole definition (including `enabled`) and bumps the version. */
  async replace(id: string, compiled: CompiledAutomation): Promise<AutomationView> {
    if (!UUID_PATTERN.test(id)) throw notFound(id);
    const parts = storedParts(compiled);
    try {
      return await this.write(id, "updated", `UPDATE automations SET name = $2, definition = $3, enabled = $4, trigger_events = $5, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [
        parts.name,
        parts.definition,
        parts.enabled,
        parts.events,
      ]);
    } catch (error) {
      throw nameTaken(error, parts.name);
    }
  }

  async setEnabled(id: string, enabled: boolean): Promise<AutomationView> {
    if (!UUID_PATTERN.test(id)) throw notFound(id);
    return this.write(id, enabled ? "enabled" : "disabled", `UPDATE automations SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [enabled]);
  }

  async remove(id: string): Promise<void> {
    if (!UUID_PATTERN.test(id)) throw notFound(id);
    await this.write(id, "deleted", `DELETE FROM automations WHERE id = $1 RETURNING ${COLUMNS}`, []);
  }

  /** Enabled automations listening to any of `events`, for the router's event index. */
  async listEnabledFor(events: readonly string[]): Promise<AutomationView[]> {
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations WHERE enabled AND trigger_events && $1::text[] ORDER BY name`, [events]);
    return rows.map(toView);
  }

  private async write(id: string, op: AutomationChangeOp, sql: string, params: unknown[]): Promise<AutomationView> {
    return withTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<AutomationRow>(sql, [id, ...params]);
      if (!rows[0]) throw notFound(id);
      await notify(tx, { id, op });
      return toView(rows[0]);
    });
  }
}
