// The checks table: saving validated definitions (credential headers sealed, the columns lists
// and schedulers read copied beside them), reading them back for the API (`<redacted>`) and
// opened for the probes, enabling, disabling, deleting. Every write bumps `revision` and
// announces `{ id, revision, deleted? }` on CHECKS_CHANNEL in the same statement, so the
// schedulers and satellite assignments of every core follow it once it commits.
import { randomUUID } from "node:crypto";
import { type CheckDefinition, type HeartbeatCheckDefinition, isUuid } from "@vantage/protocol";
import type pg from "pg";
import type { SecretBox } from "../../crypto/index.ts";
import { changedFieldsOf, recordResourceChange, type ResourceAction, type WriteContext } from "../../audit/index.ts";
import { VantageError } from "../../errors.ts";
import { inTransaction, isUniqueViolation } from "../../storage/index.ts";
import { CHECKS_CHANNEL } from "./check-changes.ts";
import { checkPageQuery, type CheckListQuery, HEALTH_COLUMNS, HEALTH_JOIN } from "./check-list.ts";
import { type CheckRow, type CheckView, checkView } from "./check-view.ts";
import { checkSecrets } from "./header-secrets.ts";
import { type AnyCheckDefinition, isHeartbeatCheck } from "./validate-check.ts";

/** The definition with its secrets sealed (a heartbeat check has none). */
const sealed = (definition: AnyCheckDefinition, box: SecretBox, id: string): AnyCheckDefinition =>
  isHeartbeatCheck(definition) ? definition : checkSecrets.seal(definition, box, id);

const COLUMNS = "id, definition, revision, created_at, updated_at";
// What the API answers: the columns and the check's health (one statement, see check-list.ts).
const VIEW_COLUMNS = `${COLUMNS}, ${HEALTH_COLUMNS}`;
// The copies of definition fields beside it ($2…$9; $10 is the stored definition), in the order columnValues gives them.
const COPIED = "name, type, enabled, interval_seconds, timeout_ms, labels, run_on_core, run_on_satellites";

/** A write of one row, and its announcement in the same statement (delivered on commit). */
const announced = (write: string, notice = "json_build_object('id', id, 'revision', revision)") =>
  `WITH written AS (${write}) SELECT ${VIEW_COLUMNS}, pg_notify('${CHECKS_CHANNEL}', ${notice}::text) FROM written LEFT JOIN check_health h ON h.check_id = written.id`;

const INSERT_CHECK = announced(`INSERT INTO checks (id, ${COPIED}, definition) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`);
const SELECT_CHECK = `SELECT ${COLUMNS} FROM checks WHERE id = $1`;
const SELECT_CHECK_VIEW = `SELECT ${VIEW_COLUMNS} FROM checks ${HEALTH_JOIN} WHERE id = $1`;
const SELECT_CHECKS = `SELECT ${COLUMNS} FROM checks WHERE id = ANY($1::uuid[])`;
// Locked for the edit: a replace or patch is decided on the row it writes over, never on an older read.
const LOCK_CHECK = `${SELECT_CHECK} FOR UPDATE`;
const UPDATE_CHECK = announced(
  `UPDATE checks SET (${COPIED}, definition) = ($2, $3, $4, $5, $6, $7, $8, $9, $10), revision = revision + 1, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
);
// `enabled` is both a column and a field of the definition: they change together.
const SET_ENABLED = announced(
  `UPDATE checks SET enabled = $2, definition = jsonb_set(definition, '{enabled}', to_jsonb($2::boolean)), revision = revision + 1, updated_at = now()
   WHERE id = $1 RETURNING ${COLUMNS}`,
);
const DELETE_CHECK = announced(
  `DELETE FROM checks WHERE id = $1 RETURNING ${COLUMNS}`,
  "json_build_object('id', id, 'revision', revision + 1, 'deleted', true)",
);

/** The row's columns after `id`, in the order of COPIED, then the stored definition. */
function columnValues(definition: AnyCheckDefinition): unknown[] {
  if (isHeartbeatCheck(definition)) return heartbeatColumnValues(definition);
  const satellites = definition.runOn.satellites ?? null;
  return [
    definition.name,
    definition.type,
    definition.enabled,
    definition.intervalSeconds,
    definition.timeoutMs,
    JSON.stringify(definition.labels),
    definition.runOn.core,
    satellites === null ? null : JSON.stringify(satellites),
    JSON.stringify(definition),
  ];
}

/**
 * A heartbeat check runs nowhere (never scheduled on the core nor assigned to a satellite):
 * its period is its interval, and the timeout column (which nothing reads for it) holds one second.
 */
function heartbeatColumnValues(definition: HeartbeatCheckDefinition): unknown[] {
  const { name, type, enabled, periodSeconds, labels } = definition;
  return [name, type, enabled, periodSeconds, 1_000, JSON.stringify(labels), false, null, JSON.stringify(definition)];
}

/** The answer for an id that names no check (a malformed one included: it names none either). */
export function checkNotFound(id: string): VantageError {
  return new VantageError("not_found", "check_not_found", `No check has the id ${JSON.stringify(id)}.`);
}

function nameTaken(name: string, cause: unknown): VantageError {
  return new VantageError("conflict", "check_name_taken", `A check named "${name}" already exists; choose another name.`, { cause });
}

export interface CheckPage {
  checks: CheckView[];
  /** The name after which the next page starts; null on the last page. */
  after: string | null;
}

export interface CheckStoreOptions {
  pool: pg.Pool;
  /** Seals credential headers on write and opens them for the probes. */
  box: SecretBox;
  /**
   * Runs in the transaction of every edit, after the write (health drops the locations where
   * the check no longer runs); what it returns runs once that transaction committed.
   */
  onEdited?: (tx: pg.PoolClient, checkId: string) => Promise<() => void>;
}

export class CheckStore {
  private readonly pool: pg.Pool;
  private readonly box: SecretBox;
  private readonly onEdited: CheckStoreOptions["onEdited"];

  constructor(options: CheckStoreOptions) {
    this.pool = options.pool;
    this.box = options.box;
    this.onEdited = options.onEdited;
  }

  /**
   * Saves a validated definition (credential headers in plain text), sealed for the id chosen
   * here. With `tx`, in the caller's transaction (its notice goes out when that commits).
   */
  async create(definition: AnyCheckDefinition, tx?: pg.PoolClient, context?: WriteContext): Promise<CheckView> {
    const id = randomUUID();
    try {
      return await inTransaction(this.pool, tx, async (client) => {
        const { rows } = await client.query<CheckRow>(INSERT_CHECK, [id, ...columnValues(sealed(definition, this.box, id))]);
        await this.record(client, rows[0]!, "create", changedFieldsOf(null, rows[0]!.definition as object), context);
        return checkView(rows[0]!);
      });
    } catch (error) {
      throw isUniqueViolation(error) ? nameTaken(definition.name, error) : error;
    }
  }

  async get(id: string): Promise<CheckView> {
    if (!isUuid(id)) throw checkNotFound(id);
    const { rows } = await this.pool.query<CheckRow>(SELECT_CHECK_VIEW, [id]);
    if (!rows[0]) throw checkNotFound(id);
    return checkView(rows[0]);
  }

  /** One keyset page in name order, filtered (see check-list.ts). */
  async list(query: CheckListQuery): Promise<CheckPage> {
    const { sql, params } = checkPageQuery(VIEW_COLUMNS, query);
    const { rows } = await this.pool.query<CheckRow>(sql, params);
    return { checks: rows.map(checkView), after: rows.length === query.limit ? rows.at(-1)!.definition.name : null };
  }

  /**
   * Replaces the definition with what `edit` makes of the stored row, under the row's lock.
   * `edit` validates (throwing to refuse, and nothing is written); the definition it returns
   * may keep stored secrets as they are (`{ sealed }`), and is sealed otherwise.
   */
  async edit(id: string, edit: (stored: CheckRow) => AnyCheckDefinition, outer?: pg.PoolClient, context?: WriteContext): Promise<CheckView> {
    if (!isUuid(id)) throw checkNotFound(id);
    let name: string | undefined;
    try {
      // In an outer transaction the health changes are announced before it commits: the router
      // then finds them on its next poll instead of at once (the notice is only a wake-up).
      const { view, committed } = await inTransaction(this.pool, outer, async (tx) => {
        const { rows } = await tx.query<CheckRow>(LOCK_CHECK, [id]);
        if (!rows[0]) throw checkNotFound(id);
        const definition = edit(rows[0]);
        name = definition.name;
        const written = await tx.query<CheckRow>(UPDATE_CHECK, [rows[0].id, ...columnValues(sealed(definition, this.box, rows[0].id))]);
        const changed = changedFieldsOf(this.comparable(rows[0]), this.comparable(written.rows[0]!));
        await this.record(tx, written.rows[0]!, "update", changed, context);
        return { view: checkView(written.rows[0]!), committed: (await this.onEdited?.(tx, rows[0].id)) ?? (() => {}) };
      });
      committed();
      return view;
    } catch (error) {
      // The name is known once the edit made the definition: only its write can violate uniqueness.
      throw name !== undefined && isUniqueViolation(error) ? nameTaken(name, error) : error;
    }
  }

  async setEnabled(id: string, enabled: boolean, context?: WriteContext): Promise<CheckView> {
    return checkView(await this.writeOne(id, SET_ENABLED, [enabled], undefined, enabled ? "enable" : "disable", context));
  }

  async remove(id: string, tx?: pg.PoolClient, context?: WriteContext): Promise<void> {
    await this.writeOne(id, DELETE_CHECK, [], tx, "delete", context);
  }

  /** The rows of these checks (those that exist), as stored: for a scheduler or assignments to reload what a notice named. */
  async rows(ids: readonly string[]): Promise<CheckRow[]> {
    const { rows } = await this.pool.query<CheckRow>(SELECT_CHECKS, [ids.filter(isUuid)]);
    return rows;
  }

  /**
   * The full definition of a stored row with its credential headers opened, for the probe that
   * sends them (the core's scheduler, a satellite's assignment); never for an answer. Throws
   * the box's VantageError when the key differs or is missing.
   */
  openDefinition(row: { id: string; definition: unknown }): CheckDefinition {
    // Stored definitions were validated on write; only their sealed headers differ from one.
    return checkSecrets.open(row.definition as CheckDefinition, this.box, row.id);
  }

  /** Every stored row, in name order: config export and plans read the whole set (never a hot path). */
  async allRows(db: pg.Pool | pg.PoolClient = this.pool): Promise<CheckRow[]> {
    const { rows } = await db.query<CheckRow>(`SELECT ${COLUMNS} FROM checks ORDER BY name`);
    return rows;
  }

  private async writeOne(
    id: string,
    sql: string,
    params: unknown[],
    tx: pg.PoolClient | undefined,
    action: "enable" | "disable" | "delete",
    context: WriteContext | undefined,
  ): Promise<CheckRow> {
    if (!isUuid(id)) throw checkNotFound(id);
    return inTransaction(this.pool, tx, async (client) => {
      const { rows } = await client.query<CheckRow>(sql, [id, ...params]);
      if (!rows[0]) throw checkNotFound(id);
      await this.record(client, rows[0], action, action === "delete" ? [] : ["enabled"], context);
      return rows[0];
    });
  }

  /**
   * The definition as the trail compares it: headers opened, since a header sent again in plain
   * text (a config apply) is sealed anew and would differ; sealed if the key cannot open them.
   */
  private comparable(row: CheckRow): object {
    try {
      return this.openDefinition(row);
    } catch {
      return row.definition as object;
    }
  }

  /** The write's line in the audit trail, in its transaction. */
  private record(tx: pg.PoolClient, row: CheckRow, action: ResourceAction, changedFields: string[], context: WriteContext | undefined) {
    const revision = action === "delete" ? Number(row.revision) + 1 : Number(row.revision);
    return recordResourceChange(tx, { kind: "check", resourceId: row.id, action, revision, changedFields, context });
  }
}
