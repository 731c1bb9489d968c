// The satellite registry behind the admin API: create with a one-time token, list, read,
// update, rotate the token, delete; and the credential check the gateway runs per hello.
import { type Actor, type Cause, canonicalUuid, type EntityChanged, OFFLINE_THRESHOLD_MS, safeText } from "@vantage/protocol";
import type DataLoader from "dataloader";
import type pg from "pg";
import { z } from "zod";
import type { SqlClient } from "../../entities/index.ts";
import { VantageError } from "../../errors.ts";
import { isUniqueViolation, withTransaction } from "../../storage/index.ts";
import { SATELLITE_REGISTRY_EDIT_CAUSE, type SatelliteConnectionEvent, satelliteConnectionEventEnum, satelliteStatusSchema } from "../connection/entity.ts";
import { laneBatchedLoader } from "../batching/lane-batched-loader.ts";
import { publishProfileChange, type SatelliteProfile } from "./profile-changes.ts";
import { publishRevocation } from "./revocations.ts";
import { satelliteNameTaken, type SatelliteService } from "../connection/service.ts";
import { computeStatus, effectiveThresholdMs } from "../connection/status.ts";
import { checkSecret, generateSatelliteToken, hashToken, isSlowHash, verifyAgainstDecoy, type VerifyOptions } from "./tokens.ts";

/** The largest offline threshold an operator may choose. */
export const MAX_OFFLINE_THRESHOLD_MS = 24 * 60 * 60 * 1000;

/**
 * The request bodies of the registry, for a core whose satellites heartbeat every
 * `heartbeatIntervalMs`: a threshold shorter than one heartbeat would flap. Built once.
 */
export function satelliteInputSchemas(heartbeatIntervalMs: number) {
  const threshold = z
    .number()
    .int("must be a whole number of milliseconds")
    .min(heartbeatIntervalMs, `must be at least the heartbeat interval, ${heartbeatIntervalMs} ms`)
    .max(MAX_OFFLINE_THRESHOLD_MS, `must be at most 24 hours (${MAX_OFFLINE_THRESHOLD_MS} ms)`)
    .nullable();
  const fields = {
    name: safeText().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
    region: safeText().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
    tags: z.array(safeText().trim().min(1, "must not be empty").max(64, "must be at most 64 characters")).max(50, "must hold at most 50 tags"),
    /** Null (or absent at creation) means the platform default. */
    offlineThresholdMs: threshold,
  };
  return {
    create: z.strictObject({ ...fields, tags: fields.tags.optional(), offlineThresholdMs: threshold.optional() }),
    update: z.strictObject(fields).partial(),
  };
}

type InputSchemas = ReturnType<typeof satelliteInputSchemas>;
export type CreateSatelliteRequest = z.infer<InputSchemas["create"]>;
export type UpdateSatelliteRequest = z.infer<InputSchemas["update"]>;

/** A satellite as the admin API shows it. Never its token or token hash. */
export const satelliteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  tags: z.array(z.string()),
  offlineThresholdMs: z.number().int().nullable().describe("The satellite's own threshold; null means the platform default."),
  effectiveOfflineThresholdMs: z.number().int().describe("The threshold that applies (own or default)."),
  status: satelliteStatusSchema,
  lastSeenAt: z.string().nullable().describe("ISO-8601 time of the last heartbeat; null when not connected."),
  lastEvent: satelliteConnectionEventEnum.nullable().describe("The last connection edge; null for a satellite that never connected."),
  lastEventAt: z
    .string()
    .nullable()
    .describe(
      "ISO-8601 time the last connection edge was recorded (an offline satellite: since when); null before the first, or for an edge recorded by a core older than this field.",
    ),
  version: z.string().nullable(),
  capabilities: z.array(z.string()),
  instanceId: z.string().nullable().describe("The core instance whose gateway holds the satellite's socket, when known."),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SatelliteView = z.infer<typeof satelliteViewSchema>;

/** What the gateway learns from valid credentials: the satellite's registration. */
export type SatelliteCredentials = Pick<SatelliteView, "id" | "name" | "region" | "tags" | "offlineThresholdMs" | "effectiveOfflineThresholdMs">;

/** Who did it, and what led to it (recorded on the entity change where there is one). */
export interface RegistryContext {
  actor: Actor;
  cause?: Cause | null;
}

const VIEW_COLUMNS = `
  id, name, region, tags, offline_threshold_ms, last_heartbeat_at, last_connection_event, last_event_at,
  version, capabilities, connected_instance_id, created_at, updated_at`;

export const DEFAULT_SATELLITE_PAGE = 500;
export const MAX_SATELLITE_PAGE = 1_000;

const SELECT_ONE = `SELECT ${VIEW_COLUMNS} FROM satellites WHERE id = $1`;
// Keyset pages by name (unique, so its index serves both the order and the cursor).
const SELECT_PAGE = `SELECT ${VIEW_COLUMNS} FROM satellites WHERE $2::text IS NULL OR name > $2 ORDER BY name LIMIT $1`;
/** Credentials queries in flight at once, and the hellos one reads at most. */
const CREDENTIALS_LANES = 1;
const MAX_CREDENTIALS_BATCH = 1000;
// The hellos that arrive while the previous lookup runs are looked up together: a reconnect
// storm costs one query per batch of satellites, not a round trip each.
const SELECT_CREDENTIALS = "SELECT id, name, region, tags, offline_threshold_ms, token_hash FROM satellites WHERE id = ANY($1::uuid[])";
// What checks are assigned by, for the satellites a core holds sockets of (after an edit, or a resync).
const SELECT_PROFILES = "SELECT id, region, tags FROM satellites WHERE id = ANY($1::uuid[])";

// $5 says whether the threshold is being set (to $6, possibly NULL = the default). offline_at
// follows it, as every writer of the threshold must (see 0002-satellites.sql): the heartbeat
// plus the new effective threshold ($7 = the default), and NULL without a heartbeat.
const NEW_THRESHOLD = "CASE WHEN $5::boolean THEN $6::integer ELSE offline_threshold_ms END";
const UPDATE_SATELLITE = `
  UPDATE satellites
  SET name = COALESCE($2, name),
      region = COALESCE($3, region),
      tags = COALESCE($4::jsonb, tags),
      offline_threshold_ms = ${NEW_THRESHOLD},
      offline_at = last_heartbeat_at + COALESCE(${NEW_THRESHOLD}, $7::integer) * interval '1 millisecond',
      updated_at = $8
  WHERE id = $1
  RETURNING ${VIEW_COLUMNS}`;

const ROTATE_TOKEN = "UPDATE satellites SET token_hash = $2, updated_at = $3 WHERE id = $1";
// Only if the hash is still the one just verified: a rotation meanwhile must not be undone.
const UPGRADE_TOKEN_HASH = "UPDATE satellites SET token_hash = $2 WHERE id = $1 AND token_hash = $3";
const DELETE_SATELLITE = "DELETE FROM satellites WHERE id = $1";

interface ViewRow {
  id: string;
  name: string;
  region: string;
  tags: string[];
  offline_threshold_ms: number | null;
  last_heartbeat_at: Date | null;
  last_connection_event: SatelliteConnectionEvent | null;
  last_event_at: Date | null;
  version: string | null;
  capabilities: string[];
  connected_instance_id: string | null;
  created_at: Date;
  updated_at: Date;
}

type CredentialsRow = Pick<ViewRow, "id" | "name" | "region" | "tags" | "offline_threshold_ms"> & { token_hash: string };

function toCredentials(row: Omit<CredentialsRow, "token_hash">): SatelliteCredentials {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    tags: row.tags,
    offlineThresholdMs: row.offline_threshold_ms,
    effectiveOfflineThresholdMs: effectiveThresholdMs(row.offline_threshold_ms),
  };
}

function toView(row: ViewRow, now: number): SatelliteView {
  return {
    ...toCredentials(row),
    status: computeStatus({ lastHeartbeatAt: row.last_heartbeat_at, offlineThresholdMs: row.offline_threshold_ms }, now),
    lastSeenAt: row.last_heartbeat_at?.toISOString() ?? null,
    lastEvent: row.last_connection_event,
    lastEventAt: row.last_event_at?.toISOString() ?? null,
    version: row.version,
    capabilities: row.capabilities,
    instanceId: row.connected_instance_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function satelliteNotFound(id: string): VantageError {
  return new VantageError("not_found", "satellite_not_found", `No satellite has the id ${JSON.stringify(id)}; list them with GET /api/v1/satellites.`);
}

export interface SatelliteRegistryOptions {
  pool: pg.Pool;
  /** Owns the satellites table's lifecycle and the satellite-connection entity. */
  satellites: SatelliteService;
  /** The clock, in epoch milliseconds: the same one the service runs on. */
  now?: () => number;
  /**
   * How long the credentials lookup of a hello waits for others to share its query. Default:
   * until the sockets read in the same poll were handled (setImmediate), no added delay.
   */
  credentialsBatchWindowMs?: number;
}

/**
 * Ids given to its methods are canonical: lower-case uuids, as the API's edge reads them
 * (`pathId`); they are entity ids, which compare as text. Only `verifyCredentials`, which
 * the gateway calls with an id as a satellite wrote it, reads one itself.
 */
export class SatelliteRegistry {
  private readonly pool: pg.Pool;
  private readonly satellites: SatelliteService;
  private readonly now: () => number;
  /** Credentials rows by lower-case id, batched (lane-batched-loader.ts); never cached, so a rotated token is read fresh. */
  private readonly credentials: DataLoader<string, CredentialsRow | undefined>;

  constructor(options: SatelliteRegistryOptions) {
    this.pool = options.pool;
    this.satellites = options.satellites;
    this.now = options.now ?? Date.now;
    const window = options.credentialsBatchWindowMs;
    this.credentials = laneBatchedLoader(
      async (ids: readonly string[]) => {
        // Named: prepared once per pooled connection, not parsed and planned for every batch of a storm.
        const { rows } = await this.pool.query<CredentialsRow>({ name: "vantage_satellite_credentials", text: SELECT_CREDENTIALS, values: [ids] });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id));
      },
      {
        // One query in flight: the hellos that arrive while it runs share the next one (in a
        // storm that is several polls' worth, where one poll's were 2–3 satellites).
        lanes: CREDENTIALS_LANES,
        maxBatch: MAX_CREDENTIALS_BATCH,
        // setImmediate, not DataLoader's default microtask tick: each socket's frame arrives in a
        // callback of its own, and only the check phase comes after all of one poll's callbacks.
        window: (ready) => (window === undefined ? setImmediate(ready) : setTimeout(ready, window)),
      },
    );
  }

  /** Registers a satellite; the token in the answer exists nowhere else, only its hash is stored. */
  async create(input: CreateSatelliteRequest): Promise<{ satellite: SatelliteView; token: string }> {
    const token = generateSatelliteToken();
    const id = await this.satellites.create({ ...input, tokenHash: hashToken(token) });
    return { satellite: await this.get(id), token };
  }

  /** Every satellite, by name, with its presence computed now. */
  /** Satellites by name, `limit` at a time, after the name `after` (the last of the previous page). */
  async list(page: { limit: number; after?: string | undefined } = { limit: MAX_SATELLITE_PAGE }, db: SqlClient = this.pool): Promise<SatelliteView[]> {
    const { rows } = await db.query<ViewRow>(SELECT_PAGE, [page.limit, page.after ?? null]);
    const now = this.now();
    return rows.map((row) => toView(row, now));
  }

  async get(id: string): Promise<SatelliteView> {
    const row = (await this.pool.query<ViewRow>(SELECT_ONE, [id])).rows[0];
    if (!row) throw satelliteNotFound(id);
    return toView(row, this.now());
  }

  /**
   * Changes name, region, tags or threshold. One mutate of the satellite-connection entity,
   * so a connected satellite's renamed state is recorded with its actor; one that never
   * connected has no state and records nothing.
   */
  async update(id: string, patch: UpdateSatelliteRequest, context: RegistryContext): Promise<SatelliteView> {
    let updated: ViewRow | undefined;
    try {
      await this.satellites.connection.mutate({ id, ...this.editOf(id, patch, context, (row) => (updated = row)) });
    } catch (error) {
      throw isUniqueViolation(error) ? satelliteNameTaken(patch.name, error) : error;
    }
    return toView(updated!, this.now());
  }

  /** `update` in the caller's transaction; the caller announces the returned changes once it committed. */
  async updateIn(tx: pg.PoolClient, id: string, patch: UpdateSatelliteRequest, context: RegistryContext): Promise<EntityChanged[]> {
    const edit = this.editOf(id, patch, context, () => undefined);
    const results = await this.satellites.connection.mutateMany({ ids: [id], tx, ...edit, apply: (client) => edit.apply(client) });
    return results.flatMap((result) => (result.change ? [result.change] : []));
  }

  /** `create` in the caller's transaction: the token is returned once, as by create. */
  async createIn(tx: pg.PoolClient, input: CreateSatelliteRequest): Promise<{ id: string; token: string }> {
    const token = generateSatelliteToken();
    return { id: await this.satellites.create({ ...input, tokenHash: hashToken(token) }, tx), token };
  }

  /** `remove` in the caller's transaction; the caller announces the returned changes once it committed. */
  async removeIn(tx: pg.PoolClient, id: string, context: RegistryContext): Promise<EntityChanged[]> {
    const results = await this.satellites.connection.mutateMany({
      ids: [id],
      tx,
      actor: context.actor,
      cause: context.cause ?? null,
      apply: (client) => this.deleteRow(client, id),
    });
    return results.flatMap((result) => (result.change ? [result.change] : []));
  }

  /** The actor, cause and write of an edit; `written` receives the updated row. */
  private editOf(id: string, patch: UpdateSatelliteRequest, context: RegistryContext, written: (row: ViewRow) => void) {
    return {
      actor: context.actor,
      // Marks the change as an edit, not a lifecycle edge: renaming fires no event.
      cause: { type: SATELLITE_REGISTRY_EDIT_CAUSE, id: context.cause?.id ?? id },
      apply: async (tx: SqlClient) => {
        const { rows } = await tx.query<ViewRow>(UPDATE_SATELLITE, [
          id,
          patch.name ?? null,
          patch.region ?? null,
          patch.tags === undefined ? null : JSON.stringify(patch.tags),
          patch.offlineThresholdMs !== undefined,
          patch.offlineThresholdMs ?? null,
          OFFLINE_THRESHOLD_MS,
          new Date(this.now()),
        ]);
        if (!rows[0]) throw satelliteNotFound(id);
        written(rows[0]);
        // Whichever core holds its socket recomputes its checks, once this commits.
        if (patch.region !== undefined || patch.tags !== undefined) await publishProfileChange(tx, { satelliteId: id });
      },
    };
  }

  private async deleteRow(tx: SqlClient, id: string): Promise<void> {
    const { rowCount } = await tx.query(DELETE_SATELLITE, [id]);
    if (rowCount === 0) throw satelliteNotFound(id);
    await publishRevocation(tx, { satelliteId: id, reason: "deleted" });
  }

  /** The region and tags of these satellites (unknown ids are left out), in one query. */
  async profiles(ids: readonly string[]): Promise<SatelliteProfile[]> {
    const { rows } = await this.pool.query<SatelliteProfile>(SELECT_PROFILES, [ids]);
    return rows;
  }

  /** Replaces the token; the old one stops working at once and its live socket is closed. */
  async rotateToken(id: string): Promise<{ id: string; token: string }> {
    const token = generateSatelliteToken();
    const tokenHash = hashToken(token);
    await withTransaction(this.pool, async (tx) => {
      const { rowCount } = await tx.query(ROTATE_TOKEN, [id, tokenHash, new Date(this.now())]);
      if (rowCount === 0) throw satelliteNotFound(id);
      await publishRevocation(tx, { satelliteId: id, reason: "token_rotated" });
    });
    return { id, token };
  }

  /**
   * Deletes the satellite and closes its socket. Through the entity's remove: a satellite
   * with connection state gets a tombstone (which fires no trigger); one without records nothing.
   */
  async remove(id: string, context: RegistryContext): Promise<void> {
    await this.satellites.connection.remove({
      id,
      actor: context.actor,
      cause: context.cause ?? null,
      apply: (tx) => this.deleteRow(tx, id),
    });
  }

  /**
   * The gateway's check of a hello: the satellite when `token` is its current token, else
   * null. An unknown or malformed id is checked against a decoy hash, so the answer takes
   * the same time whether or not the id exists. A token stored as scrypt (before tokens were
   * stored as SHA-256) is checked with it — or "refused" unchecked with `slow: false` — and
   * its hash replaced by the token's SHA-256 once it verified, so each satellite pays scrypt once.
   */
  async verifyCredentials(satelliteId: string, token: string, options: VerifyOptions = {}): Promise<SatelliteCredentials | null | "refused"> {
    // Reached from the gateway with the hello's id as the satellite wrote it.
    const id = canonicalUuid(satelliteId);
    const row = id === undefined ? undefined : await this.credentials.load(id);
    if (!row) return verifyAgainstDecoy(token).then(() => null);
    const verdict = await checkSecret(token, row.token_hash, options);
    if (verdict !== "valid") return verdict === "refused" ? "refused" : null;
    if (isSlowHash(row.token_hash)) await this.pool.query(UPGRADE_TOKEN_HASH, [row.id, hashToken(token), row.token_hash]);
    return toCredentials(row);
  }
}
