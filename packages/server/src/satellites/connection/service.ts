// Owns the satellites table: the satellite-connection entity's read and its lifecycle
// edges (connected, disconnected, heartbeat lost, recovered), each one conditional UPDATE.
import { type Actor, type Cause, isCanonicalUuid, issueAt, OFFLINE_THRESHOLD_MS, SYSTEM_ACTOR } from "@vantage/protocol";
import type pg from "pg";
import { type EntityHandle, type EntityRegistry, type MutateResult, type SqlClient, withPipelinedTransaction } from "../../entities/index.ts";
import { invalidInput, VantageError } from "../../errors.ts";
import { hashedLockKey, LockKey, onRowFoundByKey, PostgresError, sqlState } from "../../storage/index.ts";
import { isSlowHash } from "../../auth/index.ts";
import { type Logger, silentLogger } from "../../log.ts";
import {
  SATELLITE_CONNECTION_ENTITY_KIND,
  SATELLITE_CONNECTION_EVENTS,
  type SatelliteConnectionEvent,
  type SatelliteConnectionState,
  createSatelliteConnectionRead,
  deriveSatelliteConnectionEvents,
  satelliteChangeToPayload,
  satelliteConnectionStateSchema,
  toSatelliteConnectionState,
} from "./entity.ts";

// Every lifecycle statement takes $1 the satellite id and $2 the injected clock's now
// (never the database's now(), so all processes and tests agree on time). Those that use
// THRESHOLD take $3 = OFFLINE_THRESHOLD_MS: COALESCE(offline_threshold_ms, $3) is
// effectiveThresholdMs() in SQL, because the column's CHECK (> 0) leaves NULL as the only
// value that falls back to the default.
const THRESHOLD = "COALESCE(offline_threshold_ms, $3::integer) * interval '1 millisecond'";

const INSERT_SATELLITE = `
  INSERT INTO satellites (name, region, tags, offline_threshold_ms, token_hash)
  VALUES ($1, $2, $3::jsonb, $4, $5)
  RETURNING id`;

// Why each statement that takes a batch of satellites has a twin for one (the `_ONE` texts, the
// same SQL with scalar parameters where the batch has arrays): PostgreSQL plans a prepared
// statement over an array for ten rows, whatever it holds. Its generic plan then looks dearer
// than a custom one for one row, so it is planned afresh on every call (~0.06 ms of the
// database's CPU each), or, on a small table, the generic plan it keeps scans the whole table.
// A lone edge (every isolated connect or close, the automation-latency driver's every
// mutation) binds scalars: an index lookup planned once per connection.
// bench/_connection-edge-cost.ts measures it.

/** The batch's statement, or its twin for one row, with the array parameters at `arrays` (0-based) as scalars then. */
function forBatchOf(size: number, many: string, one: string, values: unknown[], arrays: readonly number[]): [string, unknown[]] {
  if (size !== 1) return [many, values];
  return [one, values.map((value, i) => (arrays.includes(i) ? (value as unknown[])[0] : value))];
}

const connectionFacts = (match: string) => `
  SELECT id, name, region, last_heartbeat_at, last_connection_event, offline_threshold_ms
  FROM satellites
  WHERE ${match}`;
const SELECT_CONNECTION_FACTS = connectionFacts("id = ANY($1::uuid[])");
const SELECT_CONNECTION_FACTS_ONE = connectionFacts("id = $1::uuid");

// Online by computeStatus's rule (now − heartbeat ≤ threshold), from the row's own columns.
const CONNECTED_AND_ONLINE = `last_connection_event = 'connected' AND last_heartbeat_at + ${THRESHOLD} >= $2::timestamptz`;

// The connects of a batch, one row each: $1 satellite ids (distinct), $4 their new sessions,
// $5 versions, $6 capabilities, $7 the core processes holding the sockets, $8 the hashes of
// the tokens their hellos presented (NULL: checked already). A satellite that is still
// connected and online (it comes back from a core that shut down and handed it over, or
// replaces its own socket) keeps its last heartbeat: only the session moves, its state is
// unchanged, so no change is recorded and nothing fires. The gateway counts the hello as a
// heartbeat, written with the next flush.
//
// A row is written only if its presented hash is the stored one: the hello's credentials check
// rides in the edge's transaction (no lookup round trip of its own), and is made under the
// entity lock, so a token rotated meanwhile is refused. The stored hashes are SHA-256 of 256
// random bits: comparing them in SQL, not in constant time, tells nothing about a token.
// Returns one row per satellite that exists, with its registration (as the hello found it:
// the outer read is the statement's snapshot) and, when its row was not written, its stored
// hash (the caller tells a slow hash, which only the registry checks, from a wrong token),
// and whether the connect wrote the heartbeat (at $2: the hello's own heartbeat is then written).
const markConnected = (presented: string) => `
  WITH presented AS (${presented}), connected AS (
    UPDATE satellites s
    SET last_connection_event = 'connected',
        last_heartbeat_at = CASE WHEN ${CONNECTED_AND_ONLINE} THEN s.last_heartbeat_at ELSE $2::timestamptz END,
        offline_at = CASE WHEN ${CONNECTED_AND_ONLINE} THEN s.offline_at ELSE $2::timestamptz + ${THRESHOLD} END,
        last_event_at = CASE WHEN ${CONNECTED_AND_ONLINE} THEN s.last_event_at ELSE $2::timestamptz END,
        session_id = v.session,
        version = COALESCE(v.version, s.version),
        capabilities = COALESCE(v.capabilities, s.capabilities),
        connected_instance_id = v.instance,
        updated_at = $2::timestamptz
    FROM presented v
    WHERE s.id = v.id AND (v.token_hash IS NULL OR s.token_hash = v.token_hash)
    RETURNING s.id, s.last_heartbeat_at = $2::timestamptz AS heartbeat_written
  )
  SELECT s.id::text AS id, s.name, s.region, s.tags, s.offline_threshold_ms,
         CASE WHEN c.id IS NULL THEN s.token_hash END AS refused_hash,
         coalesce(c.heartbeat_written, false) AS heartbeat_written
  FROM presented p
  JOIN satellites s ON s.id = p.id
  LEFT JOIN connected c ON c.id = p.id`;
const MARK_CONNECTED_MANY = markConnected(`
  SELECT * FROM unnest($1::uuid[], $4::uuid[], $5::text[], $6::jsonb[], $7::text[], $8::text[])
    AS v(id, session, version, capabilities, instance, token_hash)`);
const MARK_CONNECTED_ONE = markConnected(`
  SELECT $1::uuid AS id, $4::uuid AS session, $5::text AS version, $6::jsonb AS capabilities, $7::text AS instance, $8::text AS token_hash`);
/** MARK_CONNECTED_MANY's array parameters (0-based). */
const MARK_CONNECTED_ARRAYS = [0, 3, 4, 5, 6, 7];

// The closes of a batch: $1 satellite ids, $3 the sessions that closed. Each row only if that
// session still owns it (a stale close matches nothing). Returns the sessions that did.
const markDisconnected = (closed: string) => `
  UPDATE satellites s
  SET last_connection_event = 'disconnected',
      last_event_at = $2::timestamptz,
      last_heartbeat_at = NULL,
      offline_at = NULL,
      session_id = NULL,
      connected_instance_id = NULL,
      updated_at = $2::timestamptz
  FROM ${closed} AS v(id, session)
  WHERE s.id = v.id AND s.session_id = v.session
  RETURNING v.session, s.id::text AS id`;
const MARK_DISCONNECTED_MANY = markDisconnected("unnest($1::uuid[], $3::uuid[])");
const MARK_DISCONNECTED_ONE = markDisconnected("(SELECT $1::uuid, $3::uuid)");
/** MARK_DISCONNECTED_MANY's array parameters (0-based). */
const MARK_DISCONNECTED_ARRAYS = [0, 2];

/**
 * Whether a satellite named by id is connected: never answered from satellites_expiring, which
 * statistics taken while a fleet was away call empty (storage/found-by-key.ts).
 */
export const CONNECTED_FOUND_BY_ID = onRowFoundByKey("last_connection_event = 'connected'");

// The same rule as computeStatus (offline iff now − heartbeat > threshold), from the row's
// own columns, so the state recorded next always reads offline.
export const MARK_HEARTBEAT_LOST = `
  UPDATE satellites
  SET last_connection_event = 'heartbeat_lost',
      last_event_at = $2::timestamptz,
      updated_at = $2::timestamptz
  WHERE id = $1
    AND ${CONNECTED_FOUND_BY_ID}
    AND last_heartbeat_at + ${THRESHOLD} < $2::timestamptz`;

// The same edge for a batch of satellites: one statement, each row re-checked as above.
export const MARK_HEARTBEAT_LOST_MANY = `
  UPDATE satellites
  SET last_connection_event = 'heartbeat_lost',
      last_event_at = $2::timestamptz,
      updated_at = $2::timestamptz
  WHERE id = ANY($1::uuid[])
    AND ${CONNECTED_FOUND_BY_ID}
    AND last_heartbeat_at + ${THRESHOLD} < $2::timestamptz
  RETURNING id`;

const MARK_RECOVERED = `
  UPDATE satellites
  SET last_connection_event = 'connected',
      last_heartbeat_at = $2::timestamptz,
      offline_at = $2::timestamptz + ${THRESHOLD},
      last_event_at = $2::timestamptz,
      updated_at = $2::timestamptz
  WHERE id = $1
    AND last_connection_event = 'heartbeat_lost'
    AND ($4::uuid IS NULL OR session_id = $4)`;

// Served by the partial index satellites_expiring: reads only the expired entries.
const FIND_EXPIRED = `
  SELECT id
  FROM satellites
  WHERE last_connection_event = 'connected' AND offline_at < $1
  ORDER BY offline_at
  LIMIT $2`;

// FIND_EXPIRED for a monitor that shares the work with others (batches side by side, other
// cores): the expired satellites whose entity lock it could take — without waiting, so no two
// batches hold the same satellites and none waits behind another — at most $2, longest expired
// first. The candidates ($3 of them, from the index) are read first, so the locks are tried only
// on them, in order, until $2 are held; the locks are the ones every mutation of the satellite
// takes ($4: the entity's lock-key prefix), held to the end of the transaction.
const CLAIM_EXPIRED = `
  WITH candidate AS MATERIALIZED (
    SELECT id, offline_at
    FROM satellites
    WHERE last_connection_event = 'connected' AND offline_at < $1
    ORDER BY offline_at
    LIMIT $3
  )
  SELECT id::text AS id
  FROM candidate
  WHERE pg_try_advisory_xact_lock(${hashedLockKey("$4::text || id::text")})
  LIMIT $2`;

/** Candidates a claim reads per satellite it may take: room to skip those other batches hold. */
const CLAIM_CANDIDATES_PER_SLOT = 8;

interface ConnectedRow {
  id: string;
  name: string;
  region: string;
  tags: string[];
  offline_threshold_ms: number | null;
  /** The stored hash of a satellite whose row was not written (its token was refused). */
  refused_hash: string | null;
  heartbeat_written: boolean;
}

interface ConnectionFactsRow {
  id: string;
  name: string;
  region: string;
  last_heartbeat_at: Date | null;
  last_connection_event: SatelliteConnectionEvent | null;
  offline_threshold_ms: number | null;
}

/** The checks a satellite observes, as its offline state names them (`affectedChecks`). */
export interface AffectedChecks {
  count: number;
  /** The first names, sorted. */
  names: string[];
}

/**
 * What a satellite's outage means for the checks it observes; the checks module attaches it
 * (it starts after this one). Both run in the caller's transaction or client.
 */
export interface SatelliteOutageObserver {
  /** For each satellite, the checks it observes; absent when none. */
  affectedChecks(db: SqlClient, satelliteIds: readonly string[]): Promise<Map<string, AffectedChecks>>;
  /** These satellites just went offline (heartbeat lost, disconnected), in the edge's transaction. */
  wentOffline(db: SqlClient, satelliteIds: readonly string[], now: number): Promise<void>;
}

export interface SatelliteServiceOptions {
  pool: pg.Pool;
  entities: EntityRegistry;
  /** The clock, in epoch milliseconds; tests move it instead of sleeping. */
  now?: () => number;
  logger?: Logger;
}

export interface CreateSatelliteInput {
  name: string;
  region: string;
  tags?: string[];
  /** Overrides OFFLINE_THRESHOLD_MS for this satellite; null or absent keeps the default. */
  offlineThresholdMs?: number | null;
  /** Already hashed by the caller; this service never sees a token. */
  tokenHash: string;
}

export interface LifecycleInput {
  satelliteId: string;
  actor?: Actor;
  cause?: Cause | null;
}

export interface MarkConnectedInput extends LifecycleInput {
  /** The new connection; from now on only a close of this session disconnects. */
  sessionId: string;
  /**
   * The hash (`hashToken`) of the token the satellite presented: the connect is recorded only
   * if it is the stored one. Absent: the caller checked the token already.
   */
  tokenHash?: string;
  version?: string;
  capabilities?: string[];
  /** The core process whose gateway holds the socket (shown by the admin API). */
  instanceId?: string;
}

export interface MarkDisconnectedInput extends LifecycleInput {
  /** The connection that closed. */
  sessionId: string;
}

export type MarkHeartbeatLostInput = LifecycleInput;

export interface MarkRecoveredInput extends LifecycleInput {
  /** When given, recover only if this connection still owns the satellite. */
  sessionId?: string;
}

export type ConnectionMutation = MutateResult<SatelliteConnectionState>;

/** One member's outcome in a batch of edges: its mutation, or the error that member alone gets. */
export type ConnectionOutcome = ConnectionMutation | VantageError;

/** A satellite's registration, as a connect found it: what its checks are assigned by. */
export interface SatelliteRegistration {
  id: string;
  name: string;
  region: string;
  tags: readonly string[];
  offlineThresholdMs: number | null;
}

/** A recorded connect, with the registration of the satellite it connected. */
export interface ConnectedMutation extends ConnectionMutation {
  registration: SatelliteRegistration;
  /**
   * Whether the connect wrote the heartbeat at its now (the satellite was not connected and
   * online before): the hello then needs no heartbeat of its own. False for a handover, which
   * keeps the last heartbeat.
   */
  heartbeatWritten: boolean;
}

/**
 * A connect not recorded because its `tokenHash` is not the stored one: `wrong_token`, or
 * `slow_hash` when the stored hash is scrypt (from before tokens were stored as SHA-256), which
 * only the registry's verifyCredentials checks (and then upgrades).
 */
export interface TokenRefused {
  tokenRefused: "wrong_token" | "slow_hash";
}

/** One connect's outcome in a batch; a satellite that does not exist (deleted meanwhile) gets `satellite_not_found`. */
export type ConnectOutcome = ConnectedMutation | TokenRefused | VantageError;

type InputError = (input: CreateSatelliteInput, cause?: unknown) => VantageError;

const invalidThreshold: InputError = (input, cause) =>
  invalidInput([issueAt(["offlineThresholdMs"], `must be a positive whole number of milliseconds; got ${input.offlineThresholdMs}`)], {
    code: "invalid_offline_threshold",
    cause,
  });

/** A satellite name is unique; the one message for both create and rename. */
export function satelliteNameTaken(name: string | undefined, cause: unknown): VantageError {
  return new VantageError("conflict", "satellite_name_taken", `A satellite named "${name}" already exists; choose another name.`, { cause });
}

/** PostgreSQL errors (by SQLSTATE) an insert raises because of its input, as the error to throw. */
const CREATE_ERRORS: Record<string, InputError> = {
  [PostgresError.uniqueViolation]: (input, cause) => satelliteNameTaken(input.name, cause),
  [PostgresError.checkViolation]: invalidThreshold,
};

export class SatelliteService {
  /** The satellite-connection entity; its id is the satellite id. */
  readonly connection: EntityHandle<SatelliteConnectionState>;
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly logger: Logger;
  private outage: SatelliteOutageObserver | undefined;
  /**
   * Satellites that an edge's transaction reads next and that read online then: a connect's
   * read of next (its batch wrote their rows) and a close's read of prev (their sockets were
   * open). That read does not ask for their affected checks ahead (only offline states name
   * them). A hint only: a state that reads offline after all (a refused token, a satellite
   * whose heartbeat had expired) is asked for after its facts.
   */
  private readonly onlineAhead = new Set<string>();

  constructor(options: SatelliteServiceOptions) {
    this.pool = options.pool;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger();
    this.connection = options.entities.defineEntity({
      kind: SATELLITE_CONNECTION_ENTITY_KIND,
      schema: satelliteConnectionStateSchema,
      read: createSatelliteConnectionRead(this),
    });
    options.entities.registerChangeDeriver({
      kind: SATELLITE_CONNECTION_ENTITY_KIND,
      derive: deriveSatelliteConnectionEvents,
      toPayload: satelliteChangeToPayload,
      emits: SATELLITE_CONNECTION_EVENTS,
    });
  }

  /** Attaches what an outage means for checks: offline states name their affected checks, and going offline makes those checks due. */
  observeOutages(observer: SatelliteOutageObserver): void {
    this.outage = observer;
  }

  /**
   * Connection states by satellite id, at the clock's now, in one query. Satellites that
   * never connected, do not exist or whose id is not a uuid are absent.
   */
  async getManyConnectionStates(ids: readonly string[], db: SqlClient = this.pool): Promise<Map<string, SatelliteConnectionState>> {
    // Filtered first: one malformed id must not fail the ::uuid[] cast for the whole batch.
    // Entity ids compare as text: only the canonical (lower-case) spelling names a satellite.
    const uuids = ids.filter(isCanonicalUuid);
    const states = new Map<string, SatelliteConnectionState>();
    if (uuids.length === 0) return states;
    // On a transaction's client (a mutation's reads) the affected checks are asked for right
    // behind the facts, not after them for the offline ones: the client runs them in order, and
    // a pipelined one sends both in one round trip. A storm's edges read offline states (before
    // a connect, after a close), which cost a round trip more. Not for those read online
    // next (onlineAhead).
    const askAhead = db !== this.pool && this.outage ? uuids.filter((id) => !this.onlineAhead.has(id)) : [];
    const affecting = askAhead.length > 0 ? { ids: new Set(askAhead), answer: this.outage!.affectedChecks(db, askAhead) } : undefined;
    affecting?.answer.catch(() => undefined); // awaited below, unless the facts read failed first
    const { rows } = await db.query<ConnectionFactsRow>(...forBatchOf(uuids.length, SELECT_CONNECTION_FACTS, SELECT_CONNECTION_FACTS_ONE, [uuids], [0]));
    const now = this.now();
    for (const row of rows) {
      const state = toSatelliteConnectionState(
        {
          name: row.name,
          region: row.region,
          lastHeartbeatAt: row.last_heartbeat_at,
          lastConnectionEvent: row.last_connection_event,
          offlineThresholdMs: row.offline_threshold_ms,
        },
        now,
      );
      if (state) states.set(row.id, state);
    }
    await this.nameAffectedChecks(db, states, affecting);
    return states;
  }

  /** An offline satellite's state names the checks it observes: one page for the root cause. `asked`: already asked for these ids. */
  private async nameAffectedChecks(
    db: SqlClient,
    states: Map<string, SatelliteConnectionState>,
    asked?: { ids: ReadonlySet<string>; answer: Promise<Map<string, AffectedChecks>> },
  ): Promise<void> {
    const offline = [...states].filter(([, state]) => state.status === "offline").map(([id]) => id);
    if (!this.outage || offline.length === 0) return;
    const affected = new Map(asked ? await asked.answer : []);
    const notAsked = asked ? offline.filter((id) => !asked.ids.has(id)) : offline;
    if (notAsked.length > 0) for (const [id, checks] of await this.outage.affectedChecks(db, notAsked)) affected.set(id, checks);
    for (const id of offline) states.set(id, { ...states.get(id)!, affectedChecks: affected.get(id) ?? { count: 0, names: [] } });
  }

  /**
   * Registers a satellite and returns its id (with `db`, in the caller's transaction). Not an
   * entity change: a satellite that never connected has no connection state.
   */
  async create(input: CreateSatelliteInput, db: SqlClient = this.pool): Promise<string> {
    const threshold = input.offlineThresholdMs ?? null;
    if (threshold !== null && !(Number.isSafeInteger(threshold) && threshold > 0)) throw invalidThreshold(input);
    try {
      const { rows } = await db.query<{ id: string }>(INSERT_SATELLITE, [
        input.name,
        input.region,
        JSON.stringify(input.tags ?? []),
        threshold,
        input.tokenHash,
      ]);
      return rows[0]!.id;
    } catch (error) {
      const toError = CREATE_ERRORS[sqlState(error) ?? ""];
      throw toError ? toError(input, error) : error;
    }
  }

  /**
   * An authenticated connection took the satellite over: `connected`, heartbeat now. One that
   * was connected and online already only moves to the new session: no change is recorded.
   */
  async markConnected(input: MarkConnectedInput): Promise<ConnectionMutation> {
    const outcome = (await this.markConnectedMany([input]))[0]!;
    if ("tokenRefused" in outcome)
      throw new VantageError("unauthorized", "invalid_credentials", `The token given for satellite ${input.satelliteId} is not its token.`);
    const { prev, next, change } = orThrow(outcome);
    return { prev, next, change };
  }

  /**
   * markConnected for many satellites in one transaction (a reconnect storm must not cost a
   * commit per satellite): the outcomes in input order, a `satellite_not_found` error for a
   * satellite deleted meanwhile, `tokenRefused` for one whose `tokenHash` is not its own. Each
   * satellite at most once: its connects are serialized.
   */
  async markConnectedMany(inputs: readonly MarkConnectedInput[]): Promise<ConnectOutcome[]> {
    for (const input of inputs) {
      assertUuid("satelliteId", input.satelliteId);
      assertUuid("sessionId", input.sessionId);
    }
    if (new Set(inputs.map((input) => input.satelliteId)).size !== inputs.length) {
      throw invalidInput([{ path: "", message: "a batch of connects names a satellite twice; connect each satellite once at a time" }], {
        code: "duplicate_satellite_connect",
      });
    }
    let found = new Map<string, ConnectedRow>();
    const results = await this.connection
      .mutateMany({
        ids: inputs.map((input) => input.satelliteId),
        ...originsOf(inputs),
        // Its UPDATE rides with the lock and the read of prev: [BEGIN, lock, prev, UPDATE,
        // next] → [outbox rows, COMMIT]. The read of prev asks the affected checks of every
        // satellite not read online ahead (a storm's prevs are offline) in the facts' trip.
        repeatableApply: true,
        apply: async (tx, ids) => {
          const byId = new Map(inputs.map((input) => [input.satelliteId, input]));
          const rows = ids.map((id) => byId.get(id)!);
          const writing = tx.query<ConnectedRow>(
            ...forBatchOf(
              ids.length,
              MARK_CONNECTED_MANY,
              MARK_CONNECTED_ONE,
              [
                ids,
                new Date(this.now()),
                OFFLINE_THRESHOLD_MS,
                rows.map((input) => input.sessionId),
                rows.map((input) => input.version ?? null),
                rows.map((input) => (input.capabilities === undefined ? null : JSON.stringify(input.capabilities))),
                rows.map((input) => input.instanceId ?? null),
                rows.map((input) => input.tokenHash ?? null),
              ],
              MARK_CONNECTED_ARRAYS,
            ),
          );
          // The read of next is sent right behind the write (before its answer): they read online.
          for (const id of ids) this.onlineAhead.add(id);
          const { rows: written } = await writing;
          found = new Map(written.map((row) => [row.id, row]));
        },
      })
      .finally(() => inputs.forEach(({ satelliteId }) => this.onlineAhead.delete(satelliteId)));
    const resultOf = new Map(results.map((result) => [result.id, result]));
    return inputs.map(({ satelliteId }): ConnectOutcome => {
      const row = found.get(satelliteId);
      if (!row) return new VantageError("not_found", "satellite_not_found", `Satellite ${satelliteId} does not exist; it may have just been deleted.`);
      if (row.refused_hash !== null) return { tokenRefused: isSlowHash(row.refused_hash) ? "slow_hash" : "wrong_token" };
      return { ...withoutId(resultOf.get(satelliteId)!), registration: registrationOf(row), heartbeatWritten: row.heartbeat_written };
    });
  }

  /**
   * A connection closed: `disconnected`, no heartbeat. Only when that session still owns
   * the satellite: a stale close, after it reconnected to another process, changes and
   * records nothing.
   */
  async markDisconnected(input: MarkDisconnectedInput): Promise<ConnectionMutation> {
    return orThrow((await this.markDisconnectedMany([input]))[0]!);
  }

  /**
   * markDisconnected for many closes in one transaction: the outcomes in input order. Each
   * close is recorded only if its session still owns the satellite, so a stale close in the
   * same batch as the close of the session that replaced it records nothing.
   */
  async markDisconnectedMany(inputs: readonly MarkDisconnectedInput[]): Promise<ConnectionOutcome[]> {
    for (const input of inputs) {
      assertUuid("satelliteId", input.satelliteId);
      assertUuid("sessionId", input.sessionId);
    }
    const ids = inputs.map((input) => input.satelliteId);
    let owned = new Set<string>();
    let now = 0;
    let closed: string[] = [];
    // Their sockets were open, so they read online before the close: its read of prev asks for no affected checks.
    for (const id of ids) this.onlineAhead.add(id);
    const results = await this.connection
      .mutateMany({
        ids,
        ...originsOf(inputs),
        // Its UPDATE rides with the lock and the read of prev (which it does not need: the
        // session guard is in its WHERE): [BEGIN, lock, prev, UPDATE, next] → [outbox rows,
        // going offline, COMMIT]. A prev that reads offline after all (its heartbeat expired
        // with the socket open) asks for its affected checks after the facts' answer: that
        // batch is rolled back and recorded in turns, this apply running again.
        repeatableApply: true,
        apply: async (client) => {
          now = this.now();
          const writing = client.query<{ session: string; id: string }>(
            ...forBatchOf(
              inputs.length,
              MARK_DISCONNECTED_MANY,
              MARK_DISCONNECTED_ONE,
              [ids, new Date(now), inputs.map((input) => input.sessionId)],
              MARK_DISCONNECTED_ARRAYS,
            ),
          );
          // The read of next is sent right behind the write: it reads them offline.
          for (const id of ids) this.onlineAhead.delete(id);
          const { rows } = await writing;
          owned = new Set(rows.map((row) => row.session));
          closed = rows.map((row) => row.id);
        },
        // What going offline means for checks travels with the outbox rows and COMMIT, not
        // inside apply: it writes no satellite state, and a statement apply issued after the
        // write's answer would have the read of next sent again behind it.
        beforeCommit: (client) => this.outage?.wentOffline(client, closed, now) ?? Promise.resolve(),
      })
      .finally(() => ids.forEach((id) => this.onlineAhead.delete(id)));
    const resultOf = new Map(results.map((result) => [result.id, result]));
    return inputs.map(({ satelliteId, sessionId }) => {
      const result = resultOf.get(satelliteId)!;
      if (owned.has(sessionId)) return withoutId(result);
      this.logger.debug({ satelliteId, sessionId }, "ignored a close of a session that no longer owns the satellite");
      return { prev: result.next, next: result.next, change: null };
    });
  }

  /**
   * The monitor saw a connected satellite past its threshold: `heartbeat_lost`, heartbeat
   * kept. Conditional, so running it again or from another process records nothing.
   */
  async markHeartbeatLost(input: MarkHeartbeatLostInput): Promise<ConnectionMutation> {
    return this.lifecycle(input, input.actor ?? SYSTEM_ACTOR, async (tx, now) => {
      const { rowCount } = await tx.query(MARK_HEARTBEAT_LOST, [input.satelliteId, now, OFFLINE_THRESHOLD_MS]);
      if (rowCount) await this.outage?.wentOffline(tx, [input.satelliteId], now.getTime());
    });
  }

  /**
   * `heartbeat_lost` for many satellites in one transaction (a mass outage must not cost a
   * commit per satellite); each one only if still connected and past its own threshold.
   * Returns the ids whose loss was recorded.
   */
  async markHeartbeatLostMany(input: { satelliteIds: readonly string[]; actor?: Actor; cause?: Cause | null }): Promise<string[]> {
    input.satelliteIds.forEach((id) => assertUuid("satelliteId", id));
    const results = await this.connection.mutateMany({
      ids: input.satelliteIds,
      actor: input.actor ?? SYSTEM_ACTOR,
      cause: input.cause ?? null,
      apply: (tx, ids) => this.writeHeartbeatLosses(tx, ids, this.now()),
    });
    return results.filter((result) => result.change !== null).map((result) => result.id);
  }

  /**
   * `heartbeat_lost` for up to `limit` expired satellites that no other monitor's batch holds,
   * in one transaction: they are found and locked (without waiting) in it, then recorded as
   * markHeartbeatLostMany does. `found`: how many it took (fewer than `limit`: nothing more is
   * free to take now); `recorded`: the ids whose loss was recorded.
   */
  async claimExpiredAndMarkLost(options: { limit: number; actor?: Actor; cause?: Cause | null }): Promise<{ found: number; recorded: string[] }> {
    const { limit } = options;
    if (!(Number.isSafeInteger(limit) && limit > 0)) {
      throw invalidInput([issueAt(["limit"], `must be a positive whole number; got ${limit}`)], { code: "invalid_limit" });
    }
    const lockPrefix = LockKey.entity(SATELLITE_CONNECTION_ENTITY_KIND, "");
    const { found, results } = await withPipelinedTransaction(this.pool, "BEGIN", async (tx) => {
      const now = this.now();
      const { rows } = await tx.client.query<{ id: string }>(CLAIM_EXPIRED, [new Date(now), limit, limit * CLAIM_CANDIDATES_PER_SLOT, lockPrefix]);
      const ids = rows.map((row) => row.id);
      if (ids.length === 0) return { found: 0, results: [] };
      const mutated = await this.connection.mutateMany({
        ids,
        tx: tx.client,
        // The entity locks were taken by the claim.
        locked: true,
        commit: tx.commit,
        actor: options.actor ?? SYSTEM_ACTOR,
        cause: options.cause ?? null,
        apply: (client, locked) => this.writeHeartbeatLosses(client, locked, now),
      });
      return { found: ids.length, results: mutated };
    });
    const changes = results.flatMap((result) => (result.change ? [result.change] : []));
    this.connection.announce(changes);
    return { found, recorded: changes.map((change) => change.id) };
  }

  /** A heartbeat arrived after its loss was recorded: `connected` again, heartbeat now. */
  async markRecovered(input: MarkRecoveredInput): Promise<ConnectionMutation> {
    if (input.sessionId !== undefined) assertUuid("sessionId", input.sessionId);
    return this.lifecycle(input, satelliteActor(input), (tx, now) =>
      tx.query(MARK_RECOVERED, [input.satelliteId, now, OFFLINE_THRESHOLD_MS, input.sessionId ?? null]),
    );
  }

  /** Satellites still `connected` whose heartbeat expired, longest expired first. */
  async findExpired(options: { limit: number }): Promise<string[]> {
    if (!(Number.isSafeInteger(options.limit) && options.limit > 0)) {
      throw invalidInput([issueAt(["limit"], `must be a positive whole number; got ${options.limit}`)], { code: "invalid_limit" });
    }
    const { rows } = await this.pool.query<{ id: string }>(FIND_EXPIRED, [new Date(this.now()), options.limit]);
    return rows.map((row) => row.id);
  }

  /** The losses of `ids` still connected and past their threshold at `now`, and what going offline means for their outage. */
  private async writeHeartbeatLosses(tx: SqlClient, ids: readonly string[], now: number): Promise<void> {
    const { rows } = await tx.query<{ id: string }>(MARK_HEARTBEAT_LOST_MANY, [ids, new Date(now), OFFLINE_THRESHOLD_MS]);
    await this.outage?.wentOffline(
      tx,
      rows.map((row) => row.id),
      now,
    );
  }

  /** One mutate of the satellite's connection whose apply is `write` at the clock's now. */
  private async lifecycle(input: LifecycleInput, actor: Actor, write: (tx: SqlClient, now: Date) => Promise<unknown>): Promise<ConnectionMutation> {
    assertUuid("satelliteId", input.satelliteId);
    return this.connection.mutate({
      id: input.satelliteId,
      actor,
      cause: input.cause ?? null,
      apply: (tx) => write(tx, new Date(this.now())),
    });
  }
}

function registrationOf(row: ConnectedRow): SatelliteRegistration {
  return { id: row.id, name: row.name, region: row.region, tags: row.tags, offlineThresholdMs: row.offline_threshold_ms };
}

/** The satellite itself drives its connect, disconnect and recovery edges. */
function satelliteActor(input: LifecycleInput): Actor {
  return input.actor ?? { type: "satellite", id: input.satelliteId };
}

/** Each satellite of a batch is its own edge's actor, with its own cause. */
function originsOf(inputs: readonly LifecycleInput[]): { actor: (id: string) => Actor; cause: (id: string) => Cause | null } {
  const byId = new Map(inputs.map((input) => [input.satelliteId, input]));
  return { actor: (id) => satelliteActor(byId.get(id)!), cause: (id) => byId.get(id)!.cause ?? null };
}

function withoutId({ prev, next, change }: ConnectionMutation & { id: string }): ConnectionMutation {
  return { prev, next, change };
}

function orThrow<Outcome extends ConnectionMutation>(outcome: Outcome | VantageError): Outcome {
  if (outcome instanceof VantageError) throw outcome;
  return outcome;
}

const INVALID_ID_CODE = { satelliteId: "invalid_satellite_id", sessionId: "invalid_session_id" } as const;

function assertUuid(field: keyof typeof INVALID_ID_CODE, value: string): void {
  if (!isCanonicalUuid(value)) {
    throw invalidInput([issueAt([field], `must be a lowercase uuid; got ${JSON.stringify(value)}`)], { code: INVALID_ID_CODE[field] });
  }
}
