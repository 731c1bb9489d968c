// The automations table: saving compiled definitions (webhook secrets sealed, each version
// kept in automation_versions), reading them back, enabling and disabling. Every write
// NOTIFYs `vantage_automations_changed` in its own transaction.
import { randomUUID } from "node:crypto";
import { type AutomationDefinition, canonicalUuid } from "@vantage/protocol";
import type pg from "pg";
import { changedFieldsOf, recordResourceChange, type ResourceAction, type WriteContext } from "../../audit/index.ts";
import type { SecretBox } from "../../crypto/index.ts";
import type { SqlClient } from "../../entities/index.ts";
import { isVantageError, VantageError } from "../../errors.ts";
import { inTransaction, isUniqueViolation } from "../../storage/index.ts";
import type { CompiledAutomation } from "./compile-automation.ts";
import { automationChanged } from "./read-only-fields.ts";
import { openSecrets, redactSecrets, sealSecrets } from "./webhook-secrets.ts";

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
  /** Webhook secrets sealed (see webhook-secrets.ts): toView shows them `<redacted>`, or opens them. */
  definition: Omit<AutomationDefinition, "enabled">;
  enabled: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, definition, enabled, version, created_at, updated_at";

const ACTION_OF: Record<AutomationChangeOp, ResourceAction> = {
  created: "create",
  updated: "update",
  deleted: "delete",
  enabled: "enable",
  disabled: "disable",
};

/** What the audit trail compares: the definition with its `enabled` (a column of its own). */
const auditedState = (row: Pick<AutomationRow, "definition" | "enabled">) => ({ ...row.definition, enabled: row.enabled });

/** The write's line in the audit trail, in its transaction (changed field names only: secrets stay sealed in the row). */
function record(tx: pg.PoolClient, row: AutomationRow, op: AutomationChangeOp, changedFields: string[], context: WriteContext | undefined) {
  return recordResourceChange(tx, { kind: "automation", resourceId: row.id, action: ACTION_OF[op], revision: row.version, changedFields, context });
}

type Secrets = (definition: AutomationRow["definition"], automationId: string) => AutomationRow["definition"];

/** The view with secrets `<redacted>`: reading needs no key, so a core without one still lists and routes. */
const redacted: Secrets = (definition) => redactSecrets(definition);

function toView(row: AutomationRow, secrets: Secrets = redacted): AutomationView {
  return {
    id: row.id,
    ...secrets(row.definition, row.id),
    enabled: row.enabled,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function automationNotFound(id: string): VantageError {
  return new VantageError("not_found", "automation_not_found", `No automation with id ${id}.`);
}

/** What is stored: the normalized definition without `enabled` (it has its own column), secrets sealed. */
function storedParts(compiled: CompiledAutomation, box: SecretBox, id: string) {
  const { enabled, ...definition } = compiled.definition;
  return { enabled, definition: JSON.stringify(sealSecrets(definition, box, id)), name: definition.name, events: compiled.eventIds };
}

/** Keeps the definition a run was decided on: runs name (automation_id, automation_version). */
async function recordVersion(tx: SqlClient, row: AutomationRow): Promise<void> {
  await tx.query("INSERT INTO automation_versions (automation_id, version, definition, created_at) VALUES ($1, $2, $3, $4)", [
    row.id,
    row.version,
    JSON.stringify(row.definition),
    row.updated_at,
  ]);
}

// A webhook secret still a string: stored before secrets were sealed. Rare, read once at start.
const PLAINTEXT_SECRET = 'strict $.**.webhook.secret ? (@.type() == "string")';
const PLAINTEXT_TABLES = [
  { table: "automations", key: "id" },
  { table: "automation_versions", key: "automation_id" },
] as const;

async function notify(tx: SqlClient, notice: AutomationChangeNotice): Promise<void> {
  await tx.query("SELECT pg_notify($1, $2)", [AUTOMATIONS_CHANGED_CHANNEL, JSON.stringify(notice)]);
}

function nameTaken(error: unknown, name: string): unknown {
  if (!isUniqueViolation(error)) return error;
  return new VantageError("conflict", "automation_name_taken", `An automation named "${name}" already exists; choose another name.`, { cause: error });
}

export class AutomationStore {
  /** `box` seals webhook secrets on write and opens them for getWithSecrets. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly box: SecretBox,
  ) {}

  /** With `outer`, in the caller's transaction (its notice goes out when that commits). */
  async create(compiled: CompiledAutomation, outer?: pg.PoolClient, context?: WriteContext): Promise<AutomationView> {
    // The id is chosen here: the sealed secrets are bound to it.
    const id = randomUUID();
    const parts = storedParts(compiled, this.box, id);
    try {
      return await inTransaction(this.pool, outer, async (tx) => {
        const { rows } = await tx.query<AutomationRow>(
          `INSERT INTO automations (id, name, definition, enabled, trigger_events) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [id, parts.name, parts.definition, parts.enabled, parts.events],
        );
        await recordVersion(tx, rows[0]!);
        await record(tx, rows[0]!, "created", changedFieldsOf(null, auditedState(rows[0]!)), context);
        await notify(tx, { id, op: "created" });
        return toView(rows[0]!);
      });
    } catch (error) {
      throw nameTaken(error, parts.name);
    }
  }

  async list(): Promise<AutomationView[]> {
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations ORDER BY name`);
    return rows.map((row) => toView(row));
  }

  async get(id: string): Promise<AutomationView> {
    return toView(await this.row(id));
  }

  /** The view with its webhook secrets in plain text (to keep them on a replace); never for an answer. */
  async getWithSecrets(id: string): Promise<AutomationView> {
    return toView(await this.row(id), (definition, automationId) => openSecrets(definition, this.box, automationId));
  }

  /**
   * Replaces the whole definition (including `enabled`) and bumps the version. With
   * `readVersion` (the version the client edited), only while that is still the stored one.
   */
  async replace(given: string, compiled: CompiledAutomation, readVersion?: number, outer?: pg.PoolClient, context?: WriteContext): Promise<AutomationView> {
    // Secrets are bound to the id as PostgreSQL prints it (lower case): another spelling would
    // seal what no read can open, so this one method keeps the edge's rule, whoever calls it.
    const id = canonicalUuid(given);
    if (id === undefined) throw automationNotFound(given);
    const parts = storedParts(compiled, this.box, id);
    try {
      const sql = `UPDATE automations SET name = $2, definition = $3, enabled = $4, trigger_events = $5, version = version + 1, updated_at = now()
        WHERE id = $1 AND version = coalesce($6, version) RETURNING ${COLUMNS}`;
      return await this.write(
        id,
        "updated",
        sql,
        [parts.name, parts.definition, parts.enabled, parts.events, readVersion ?? null],
        recordVersion,
        outer,
        context,
      );
    } catch (error) {
      // No row matched: gone (get says so), or replaced since the client read it.
      if (readVersion !== undefined && isVantageError(error, "not_found")) throw automationChanged(await this.get(id), "version", readVersion);
      throw nameTaken(error, parts.name);
    }
  }

  async setEnabled(id: string, enabled: boolean, context?: WriteContext): Promise<AutomationView> {
    const sql = `UPDATE automations SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`;
    return this.write(id, enabled ? "enabled" : "disabled", sql, [enabled], undefined, undefined, context);
  }

  async remove(id: string, outer?: pg.PoolClient, context?: WriteContext): Promise<void> {
    await this.write(id, "deleted", `DELETE FROM automations WHERE id = $1 RETURNING ${COLUMNS}`, [], undefined, outer, context);
  }

  /** Every automation with its webhook secrets opened, for config plans (which compare them, and never show them). */
  async listWithSecrets(db: pg.Pool | pg.PoolClient = this.pool): Promise<AutomationView[]> {
    const { rows } = await db.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations ORDER BY name`);
    return rows.map((row) => toView(row, (definition, automationId) => openSecrets(definition, this.box, automationId)));
  }

  /** Enabled automations listening to any of `events`, for the router's event index (secrets `<redacted>`: the index never sends). */
  /**
   * Names of the automations with a `notify` step (at any depth) naming the channel: by its
   * name, or (when given) by its id, as the notify action resolves it. A scan, for the rare
   * channel delete or rename. With `db`, as a transaction sees them (a config apply that deletes both).
   */
  async namesNotifying(channel: { id?: string; name: string }, db: pg.Pool | pg.PoolClient = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ name: string }>(
      `SELECT DISTINCT a.name FROM automations a, jsonb_path_query(a.definition, 'strict $.**.notify.channel') AS step (channel)
       WHERE step.channel #>> '{}' = $1 OR lower(step.channel #>> '{}') = lower($2) ORDER BY a.name`,
      [channel.name, channel.id ?? null],
    );
    return rows.map((row) => row.name);
  }

  async listEnabledFor(events: readonly string[]): Promise<AutomationView[]> {
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations WHERE enabled AND trigger_events && $1::text[] ORDER BY name`, [
      events,
    ]);
    return rows.map((row) => toView(row));
  }

  /**
   * Seals the webhook secrets of definitions stored before secrets were sealed (in automations
   * and automation_versions). Run at start; safe on several cores at once: each row is swapped
   * only if it still holds what was read. Returns how many rows it sealed.
   */
  async sealPlaintextSecrets(): Promise<number> {
    let sealed = 0;
    for (const { table, key } of PLAINTEXT_TABLES) {
      const { rows } = await this.pool.query<{ id: string; version: number; definition: AutomationRow["definition"] }>(
        `SELECT ${key} AS id, version, definition FROM ${table} WHERE jsonb_path_exists(definition, '${PLAINTEXT_SECRET}')`,
      );
      for (const row of rows) {
        const swapped = await this.pool.query(`UPDATE ${table} SET definition = $3 WHERE ${key} = $1 AND version = $2 AND definition = $4`, [
          row.id,
          row.version,
          JSON.stringify(sealSecrets(row.definition, this.box, row.id)),
          JSON.stringify(row.definition),
        ]);
        sealed += swapped.rowCount ?? 0;
      }
    }
    return sealed;
  }

  private async row(id: string): Promise<AutomationRow> {
    const { rows } = await this.pool.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations WHERE id = $1`, [id]);
    if (!rows[0]) throw automationNotFound(id);
    return rows[0];
  }

  /**
   * What an update changed, its secrets compared opened: each write seals anew, so sealed
   * values differ even when the secret is the one kept. Sealed ones are compared if the key cannot open them.
   */
  private changedFields(before: AutomationRow | null, after: AutomationRow): string[] {
    const opened = (row: AutomationRow) => {
      try {
        return { ...auditedState(row), ...openSecrets(row.definition, this.box, row.id) };
      } catch {
        return auditedState(row);
      }
    };
    return changedFieldsOf(before ? opened(before) : null, opened(after));
  }

  /** Runs `sql` on the row `id` and `also` with the written row, then announces `op`, in one transaction. */
  private async write(
    id: string,
    op: AutomationChangeOp,
    sql: string,
    params: unknown[],
    also?: (tx: SqlClient, row: AutomationRow) => Promise<void>,
    outer?: pg.PoolClient,
    context?: WriteContext,
  ): Promise<AutomationView> {
    return inTransaction(this.pool, outer, async (tx) => {
      // The trail names what an update changed, so it reads the row it replaces (locked: no other write slips between).
      const before = op === "updated" ? await tx.query<AutomationRow>(`SELECT ${COLUMNS} FROM automations WHERE id = $1 FOR UPDATE`, [id]) : null;
      const { rows } = await tx.query<AutomationRow>(sql, [id, ...params]);
      if (!rows[0]) throw automationNotFound(id);
      await also?.(tx, rows[0]);
      const changed = before ? this.changedFields(before.rows[0] ?? null, rows[0]) : op === "deleted" ? [] : ["enabled"];
      await record(tx, rows[0], op, changed, context);
      await notify(tx, { id, op });
      return toView(rows[0]);
    });
  }
}
