// The notification_channels table: create, list, read, update and delete channels, with their
// secret fields sealed at rest; and the one read that decrypts them, for a delivery.
import { randomUUID } from "node:crypto";
import { isUuid } from "@vantage/protocol";
import type pg from "pg";
import { recordResourceChange, type WriteContext } from "../audit/index.ts";
import type { SecretBox } from "../crypto/index.ts";
import { VantageError } from "../errors.ts";
import { inTransaction, isUniqueViolation } from "../storage/index.ts";
import type { z } from "zod";
import { type channelViewSchema, type ChannelType, type CreateChannelRequest, SECRET_FIELDS, type UpdateChannelRequest } from "./channel-schemas.ts";
import type { ResolvedChannel } from "./senders/channel-sender.ts";

/**
 * A channel as the API shows it: `config` holds only the non-secret fields; `secretsSet`
 * names the secret fields that have a value (they are never returned, not even masked).
 */
export type ChannelView = z.infer<typeof channelViewSchema>;

interface ChannelRow {
  id: string;
  name: string;
  type: ChannelType;
  config: Record<string, unknown>;
  secrets: string;
  secret_fields: string[];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, name, type, config, secrets, secret_fields, created_at, updated_at";
const INSERT = `
  INSERT INTO notification_channels (id, name, type, config, secrets, secret_fields, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
  RETURNING ${COLUMNS}`;
const SELECT_ONE = `SELECT ${COLUMNS} FROM notification_channels WHERE id = $1`;
const SELECT_ALL = `SELECT ${COLUMNS} FROM notification_channels ORDER BY name`;
const UPDATE = `
  UPDATE notification_channels
  SET name = $2, config = $3, secrets = $4, secret_fields = $5, updated_at = $6
  WHERE id = $1
  RETURNING ${COLUMNS}`;
const DELETE = "DELETE FROM notification_channels WHERE id = $1";

function toView(row: ChannelRow): ChannelView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    config: row.config,
    secretsSet: row.secret_fields,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function channelNotFound(id: string): VantageError {
  return new VantageError(
    "not_found",
    "notification_channel_not_found",
    `No notification channel has the id ${JSON.stringify(id)}; list them with GET /api/v1/notification-channels.`,
  );
}

function nameTaken(name: string, cause: unknown): VantageError {
  return new VantageError("conflict", "notification_channel_name_taken", `A notification channel named "${name}" already exists; choose another name.`, {
    cause,
  });
}

// The row id is the associated data: a sealed value only opens on the row it was written for.
const sealContext = (id: string) => `notification-channel:${id}`;

/** Splits settings into the stored config and the secret fields (only those with a value). */
function split(type: ChannelType, settings: Record<string, unknown>) {
  const secretNames: readonly string[] = SECRET_FIELDS[type];
  const config: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    (secretNames.includes(key) ? secrets : config)[key] = value;
  }
  return { config, secrets, secretFields: Object.keys(secrets).sort() };
}

export interface NotificationChannelStoreOptions {
  pool: pg.Pool;
  box: SecretBox;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/**
 * The settings a write changed, as `name` and `config.<field>`: secret fields by name only,
 * compared opened and never recorded as values.
 */
function changedSettings(
  before: { name: string; settings: Record<string, unknown> } | null,
  after: { name: string; settings: Record<string, unknown> },
): string[] {
  const fields = before?.name === after.name ? [] : ["name"];
  const keys = new Set([...Object.keys(before?.settings ?? {}), ...Object.keys(after.settings)]);
  for (const key of keys) if (JSON.stringify(before?.settings[key]) !== JSON.stringify(after.settings[key])) fields.push(`config.${key}`);
  return fields.sort();
}

export class NotificationChannelStore {
  /** Also where the channels' audit trail is read. */
  readonly pool: pg.Pool;
  private readonly box: SecretBox;
  private readonly now: () => number;

  constructor(options: NotificationChannelStoreOptions) {
    this.pool = options.pool;
    this.box = options.box;
    this.now = options.now ?? Date.now;
  }

  /** With `tx`, in the caller's transaction. */
  async create(input: CreateChannelRequest, tx?: pg.PoolClient, context?: WriteContext): Promise<ChannelView> {
    const id = randomUUID();
    const { config, secrets, secretFields } = split(input.type, input.config);
    const sealed = this.box.seal(JSON.stringify(secrets), sealContext(id));
    try {
      return await inTransaction(this.pool, tx, async (client) => {
        const { rows } = await client.query<ChannelRow>(INSERT, [id, input.name, input.type, config, sealed, secretFields, new Date(this.now())]);
        const changedFields = [...changedSettings(null, { name: input.name, settings: { ...config, ...secrets } }), "type"].sort();
        await recordResourceChange(client, { kind: "notification-channel", resourceId: id, action: "create", changedFields, context });
        return toView(rows[0]!);
      });
    } catch (error) {
      throw isUniqueViolation(error) ? nameTaken(input.name, error) : error;
    }
  }

  async list(): Promise<ChannelView[]> {
    const { rows } = await this.pool.query<ChannelRow>(SELECT_ALL);
    return rows.map(toView);
  }

  async get(id: string): Promise<ChannelView> {
    return toView(await this.row(this.pool, id));
  }

  /**
   * Applies a PATCH validated by `updateChannelSchemas[type]`: omitted fields are kept (secrets
   * too), null clears an optional one. The old secrets are decrypted only when some are kept,
   * so a channel sealed under a lost key can be repaired by sending all its secrets again.
   */
  async update(id: string, patch: UpdateChannelRequest, outer?: pg.PoolClient, context?: WriteContext): Promise<ChannelView> {
    const name = patch.name;
    try {
      return await inTransaction(this.pool, outer, async (tx) => {
        const row = await this.row(tx, id, " FOR UPDATE");
        const changes = patch.config ?? {};
        const keepsSecrets = row.secret_fields.some((field) => !(field in changes));
        const stored = keepsSecrets ? this.openSecrets(row) : this.secretsForDiff(row);
        const settings: Record<string, unknown> = { ...row.config, ...stored };
        for (const [key, value] of Object.entries(changes)) {
          if (value === null) delete settings[key];
          else if (value !== undefined) settings[key] = value;
        }
        const { config, secrets, secretFields } = split(row.type, settings);
        // Sealed for the stored id (PostgreSQL's lower case), whatever case the caller wrote it in.
        const sealed = this.box.seal(JSON.stringify(secrets), sealContext(row.id));
        const { rows } = await tx.query<ChannelRow>(UPDATE, [row.id, name ?? row.name, config, sealed, secretFields, new Date(this.now())]);
        const changedFields = changedSettings({ name: row.name, settings: { ...row.config, ...stored } }, { name: name ?? row.name, settings });
        await recordResourceChange(tx, { kind: "notification-channel", resourceId: row.id, action: "update", changedFields, context });
        return toView(rows[0]!);
      });
    } catch (error) {
      throw isUniqueViolation(error) ? nameTaken(name ?? "", error) : error;
    }
  }

  async remove(id: string, tx?: pg.PoolClient, context?: WriteContext): Promise<void> {
    // A malformed id names no channel (and must not reach the uuid column).
    if (!isUuid(id)) throw channelNotFound(id);
    await inTransaction(this.pool, tx, async (client) => {
      const { rows } = await client.query<{ id: string }>(`${DELETE} RETURNING id`, [id]);
      if (!rows[0]) throw channelNotFound(id);
      await recordResourceChange(client, { kind: "notification-channel", resourceId: rows[0].id, action: "delete", changedFields: [], context });
    });
  }

  /** Every channel with its secrets decrypted, for config plans (which compare them, and never show them). */
  async resolveAll(db: pg.Pool | pg.PoolClient = this.pool): Promise<ResolvedChannel[]> {
    const { rows } = await db.query<ChannelRow>(SELECT_ALL);
    return rows.map((row) => ({ id: row.id, name: row.name, type: row.type, settings: { ...row.config, ...this.openSecrets(row) } }) as ResolvedChannel);
  }

  /** The channel with its secrets decrypted, for a delivery. Throws when the key differs. */
  async resolve(id: string): Promise<ResolvedChannel> {
    const row = await this.row(this.pool, id);
    const settings = { ...row.config, ...this.openSecrets(row) };
    return { id: row.id, name: row.name, type: row.type, settings } as ResolvedChannel;
  }

  private async row(client: pg.Pool | pg.PoolClient, id: string, lock = ""): Promise<ChannelRow> {
    // Deliveries (resolve) come with an id as a notify step wrote it: another form names no channel.
    const row = isUuid(id) ? (await client.query<ChannelRow>(`${SELECT_ONE}${lock}`, [id])).rows[0] : undefined;
    if (!row) throw channelNotFound(id);
    return row;
  }

  /**
   * The stored secrets, only to tell which an update changed: when all are replaced, the key
   * may be lost (the repair case above), and then every secret counts as changed.
   */
  private secretsForDiff(row: ChannelRow): Record<string, unknown> {
    try {
      return this.openSecrets(row);
    } catch {
      return {};
    }
  }

  private openSecrets(row: ChannelRow): Record<string, unknown> {
    return JSON.parse(this.box.open(row.secrets, sealContext(row.id))) as Record<string, unknown>;
  }
}
