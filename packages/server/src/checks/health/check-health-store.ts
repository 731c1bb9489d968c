// The check_health table: the entity's batched read (joined with the check's own fields), the
// records an evaluation starts from, the facts it needs (each check's schedule and health
// options, each satellite location's presence) and the one statement that writes a batch.
import {
  type SatelliteSelector,
  type CheckHealthOptions,
  checkHealthOptionsSchema,
  DEFAULT_CHECK_HEALTH,
  HEARTBEAT_CHECK_TYPE,
  isUuid,
  PUSH_LOCATION,
} from "@vantage/protocol";
import { isPipelined, settledInOrder, type SqlClient } from "../../entities/index.ts";
import { computeStatus, type SatelliteProfile } from "../../satellites/index.ts";
import { inMaintenanceSql } from "../maintenance-windows/maintenance-flag.ts";
import { lockChecks } from "./check-locks.ts";
import { CORE_LOCATION } from "../scheduling/core-runs.ts";
import { type CompiledSelector, compileSelector, type SelectableSatellite, selectableSatellite, selects } from "../assignments/satellite-selector.ts";
import { type CheckFacts, type CheckHealthState, targetOf, toCheckHealthState } from "./check-health-entity.ts";
import type { CheckHealthRecord } from "./evaluate-check-health.ts";
import type { LocationRecord } from "./location-health.ts";

// An instant as toISOString writes it (every stored one has millisecond precision): compared and
// kept as the string it is, not parsed into a Date by the driver and formatted back.
const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const RECORD_COLUMNS = `h.check_id, h.status, ${isoSql("h.since")} AS since, h.reason, h.flapping, h.maintenance, h.locations, h.flap_history,
  ${isoSql("h.stale_at")} AS stale_at`;

const READ_STATES = `
  SELECT ${RECORD_COLUMNS}, c.name, c.type, c.labels,
         c.definition ->> 'url' AS url, c.definition ->> 'host' AS host, c.definition ->> 'port' AS port, c.definition ->> 'queryName' AS query_name
  FROM check_health h JOIN checks c ON c.id = h.check_id
  WHERE h.check_id = ANY($1::uuid[])`;

// What an evaluation starts from: each check's schedule and health options, its record when it
// has one, and whether a maintenance window is on for it now. A check deleted since its results
// were taken is absent.
const LOAD_EVALUATION = `
  SELECT c.id, c.interval_seconds, c.timeout_ms, (c.definition -> 'health')::text AS health, c.run_on_core, c.run_on_satellites::text AS run_on_satellites, c.type,
         CASE WHEN c.type = '${HEARTBEAT_CHECK_TYPE}' THEN (c.definition ->> 'graceSeconds')::int END AS push_grace_seconds, ${RECORD_COLUMNS},
         ${inMaintenanceSql("c", "$2::timestamptz")} AS in_maintenance
  FROM checks c LEFT JOIN check_health h ON h.check_id = c.id
  WHERE c.id = ANY ($1::uuid[])`;

// The satellites among the locations: those the results came from and those the records hold
// (their location_ids, equal to the keys of their locations: no document is read). Told from
// "core" and "push" by their form, after DISTINCT: a few distinct ids, not one per row.
const SATELLITE_PRESENCE = `
  SELECT id::text, name, region, tags, last_heartbeat_at, offline_threshold_ms
  FROM satellites WHERE id = ANY (ARRAY(
    SELECT location::uuid FROM (
      SELECT unnest(location_ids) FROM check_health WHERE check_id = ANY ($1::uuid[])
      UNION SELECT unnest($2::text[])
    ) AS l(location)
    WHERE location ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'))`;

// One statement for the batch; the rows arrive as one JSON array (locations are documents).
const UPSERT_RECORDS = `
  INSERT INTO check_health (check_id, status, since, reason, flapping, maintenance, locations, flap_history, stale_at, evaluated_at, location_ids)
  SELECT check_id, status, since, reason, flapping, maintenance, locations, flap_history, stale_at, $2::timestamptz, r.location_ids
  FROM jsonb_to_recordset($1::jsonb) AS r(check_id uuid, status text, since timestamptz, reason text, flapping boolean, maintenance boolean,
                                          locations jsonb, flap_history text, stale_at timestamptz, location_ids text[])
  ON CONFLICT (check_id) DO UPDATE SET
    status = excluded.status, since = excluded.since, reason = excluded.reason, flapping = excluded.flapping,
    maintenance = excluded.maintenance, locations = excluded.locations, flap_history = excluded.flap_history,
    stale_at = excluded.stale_at, evaluated_at = excluded.evaluated_at, location_ids = excluded.location_ids`;

// The records that exist already and moved only by their results (see materiallyDiffers): a
// plain UPDATE (no speculative insert) of what such a move changes — status, reason, the set of
// locations and the rest stay as they are. The most common write by far.
const UPDATE_QUIET_RECORDS = `
  UPDATE check_health h SET locations = r.locations, flap_history = r.flap_history, stale_at = r.stale_at, evaluated_at = $2::timestamptz
  FROM jsonb_to_recordset($1::jsonb) AS r(check_id uuid, locations jsonb, flap_history text, stale_at timestamptz)
  WHERE h.check_id = r.check_id`;

interface RecordRow {
  check_id: string;
  status: CheckHealthRecord["status"];
  /** ISO (see isoSql). */
  since: string;
  reason: string;
  flapping: boolean;
  maintenance: boolean;
  locations: Record<string, LocationRecord>;
  flap_history: string;
  /** ISO (see isoSql). */
  stale_at: string | null;
}

function recordOf(row: RecordRow): CheckHealthRecord {
  return {
    status: row.status,
    since: row.since,
    reason: row.reason,
    flapping: row.flapping,
    maintenance: row.maintenance,
    locations: row.locations,
    flapHistory: row.flap_history,
    staleAt: row.stale_at,
  };
}

/** The entity's read: the state of each evaluated check (a check never evaluated has none). */
export async function readCheckHealthStates(db: SqlClient, ids: readonly string[]): Promise<Map<string, CheckHealthState>> {
  const { rows } = await db.query<
    RecordRow & {
      name: string;
      type: string;
      labels: Record<string, string>;
      url: string | null;
      host: string | null;
      port: string | null;
      query_name: string | null;
    }
  >({
    name: "vantage_read_check_health",
    text: READ_STATES,
    values: [ids.filter(isUuid)],
  });
  return new Map(
    rows.map((row) => {
      const check: CheckFacts = {
        name: row.name,
        type: row.type,
        labels: row.labels,
        target: targetOf({ url: row.url, host: row.host, port: row.port, queryName: row.query_name }),
      };
      return [row.check_id, toCheckHealthState(recordOf(row), check)];
    }),
  );
}

/** What an evaluation needs of a check besides its results. */
export interface CheckSchedule {
  intervalSeconds: number;
  timeoutMs: number;
  options: CheckHealthOptions;
  /** A heartbeat check's grace (its interval is its period); null for a probed check. */
  pushGraceSeconds: number | null;
  /** Where the check runs now: the only locations whose results count, and those its health keeps when its definition changed. */
  runOn: { core: boolean; satellites: CompiledSelector | null };
}

/** A ping is a verdict: one failure (or missed deadline) makes a push location unhealthy, one success brings it back. */
const PUSH_THRESHOLDS = { failuresToUnhealthy: 1, successesToRecover: 1, window: undefined } as const;

/** What an evaluation starts from, for each check (absent: deleted). */
export interface LoadedCheck {
  schedule: CheckSchedule;
  /** Null before the check's first evaluation. */
  record: CheckHealthRecord | null;
  /** Whether a maintenance window is on for it now. */
  maintenance: boolean;
}

interface LoadedRow extends Partial<Omit<RecordRow, "check_id">> {
  id: string;
  check_id: string | null;
  interval_seconds: number;
  timeout_ms: number;
  /** The definition's `health` as JSON text (the key of its parsed form, see compiledOnce); null when absent. */
  health: string | null;
  push_grace_seconds: number | null;
  run_on_core: boolean;
  /** The selector as JSON text; null when no satellite runs the check. */
  run_on_satellites: string | null;
  in_maintenance: boolean;
}

interface PresenceRow {
  id: string;
  name: string;
  region: string;
  tags: string[];
  last_heartbeat_at: Date | null;
  offline_threshold_ms: number | null;
}

/** What an evaluation of some checks starts from: each check (absent: deleted) and the facts of its locations. */
export interface LoadedEvaluation {
  checks: Map<string, LoadedCheck>;
  facts: LocationFacts;
}

/**
 * Locks the checks' rows (see check-locks.ts), then loads each one's schedule, record and
 * maintenance flag and the presence of every satellite location (the results' and the
 * records'), at `now`: three prepared statements, each reading after the lock is held — in ONE
 * round trip on a pipelined client (the ingest's), one after another on another.
 */
export async function lockAndLoad(db: SqlClient, ids: readonly string[], resultLocations: readonly string[], now: number): Promise<LoadedEvaluation> {
  const sorted = [...new Set(ids)].sort();
  const locations = [...new Set(resultLocations)];
  const load = () => db.query<LoadedRow>({ name: "vantage_check_health_load", text: LOAD_EVALUATION, values: [sorted, new Date(now).toISOString()] });
  const presence = () => db.query<PresenceRow>({ name: "vantage_check_health_presence", text: SATELLITE_PRESENCE, values: [sorted, locations] });
  const [, loaded, present] = isPipelined(db)
    ? await settledInOrder([lockChecks(db, sorted), load(), presence()])
    : [await lockChecks(db, sorted), await load(), await presence()];
  return { checks: new Map(loaded.rows.map((row) => [row.id, loadedCheck(row)])), facts: locationFacts(present.rows, now) };
}

/**
 * `compile` memoized by the JSON text it reads, in this process: thousands of checks share a few
 * health options and selectors, so a batch parses and validates each text once, not once per
 * check per batch. Keyed by content, not by check and revision: an edit is a new text, and a
 * check deleted and created again under its id cannot meet its old entry. Bounded: when full it
 * starts over (what it holds is only ever rebuilt from the row).
 */
function compiledOnce<T>(compile: (value: unknown) => T, maxEntries = 10_000): (text: string) => T {
  let compiled = new Map<string, T>();
  return (text) => {
    let value = compiled.get(text);
    if (value === undefined) {
      if (compiled.size >= maxEntries) compiled = new Map();
      value = compile(JSON.parse(text));
      compiled.set(text, value);
    }
    return value;
  };
}

// A definition stored before health options existed has none (null, or options that no longer
// validate): the defaults apply. Cached objects are shared: nothing downstream mutates them.
function parseHealthOptions(value: unknown): CheckHealthOptions {
  const parsed = checkHealthOptionsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : DEFAULT_CHECK_HEALTH;
}
const healthOptionsOf = compiledOnce(parseHealthOptions);
const pushOptionsOf = compiledOnce((value): CheckHealthOptions => ({ ...parseHealthOptions(value), ...PUSH_THRESHOLDS }));
const selectorOf = compiledOnce((value) => compileSelector(value as SatelliteSelector));

function loadedCheck(row: LoadedRow): LoadedCheck {
  const push = row.push_grace_seconds !== null;
  const health = row.health ?? "null";
  const schedule: CheckSchedule = {
    intervalSeconds: row.interval_seconds,
    timeoutMs: row.timeout_ms,
    options: push ? pushOptionsOf(health) : healthOptionsOf(health),
    pushGraceSeconds: row.push_grace_seconds,
    runOn: { core: row.run_on_core, satellites: row.run_on_satellites === null ? null : selectorOf(row.run_on_satellites) },
  };
  return { schedule, record: row.check_id === null ? null : recordOf(row as RecordRow), maintenance: row.in_maintenance };
}

/** Presence and name of each location, at `now`: the core is online; a satellite by `computeStatus`; an unknown one offline. */
export interface LocationFacts {
  presence(location: string): "online" | "offline";
  nameOf(location: string): string;
  /** A satellite location as runOn selectors read it; undefined for another location or a deleted satellite. */
  selectableOf(location: string): SelectableSatellite | undefined;
}

function locationFacts(rows: readonly PresenceRow[], now: number): LocationFacts {
  const satellites = new Map(
    rows.map((row) => [
      row.id,
      {
        name: row.name,
        online: computeStatus({ lastHeartbeatAt: row.last_heartbeat_at, offlineThresholdMs: row.offline_threshold_ms }, now) === "online",
        // Capabilities filter what is pushed to a connected agent, not where a check belongs.
        selectable: selectableSatellite({ id: row.id, region: row.region, tags: row.tags } satisfies SatelliteProfile, []),
      },
    ]),
  );
  return {
    // The core observes while it runs; a push location is the job itself, never offline.
    presence: (location) => (location === CORE_LOCATION || location === PUSH_LOCATION || satellites.get(location)?.online ? "online" : "offline"),
    nameOf: (location) => satellites.get(location)?.name ?? location,
    selectableOf: (location) => satellites.get(location)?.selectable,
  };
}

/**
 * Writes the records of a batch in one statement; `quiet` when every one has a row already and
 * moved only by its results (no material change: the columns that show one are left alone).
 */
export async function writeHealthRecords(db: SqlClient, records: ReadonlyMap<string, CheckHealthRecord>, now: number, quiet = false): Promise<void> {
  if (records.size === 0) return;
  const at = new Date(now).toISOString();
  if (quiet) {
    const rows = [...records].map(([checkId, record]) => ({
      check_id: checkId,
      locations: record.locations,
      flap_history: record.flapHistory,
      stale_at: record.staleAt,
    }));
    await db.query({ name: "vantage_update_quiet_check_health", text: UPDATE_QUIET_RECORDS, values: [JSON.stringify(rows), at] });
    return;
  }
  const rows = [...records].map(([checkId, record]) => ({
    check_id: checkId,
    status: record.status,
    since: record.since,
    reason: record.reason,
    flapping: record.flapping,
    maintenance: record.maintenance,
    locations: record.locations,
    flap_history: record.flapHistory,
    stale_at: record.staleAt,
    // Sorted, so it stays equal while the locations do: the GIN index is not touched and the
    // update of a result stays HOT.
    location_ids: Object.keys(record.locations).sort(),
  }));
  await db.query({ name: "vantage_write_check_health", text: UPSERT_RECORDS, values: [JSON.stringify(rows), at] });
}

// Served by the partial index check_health_stale: cost follows the checks whose deadline passed.
const FIND_DUE = `SELECT check_id FROM check_health WHERE stale_at <= $1::timestamptz ORDER BY stale_at LIMIT $2`;

/** Checks whose deadline (stale_at) passed at `now`, longest passed first. */
export async function findDueChecks(db: SqlClient, now: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ check_id: string }>({ name: "vantage_check_health_due", text: FIND_DUE, values: [new Date(now).toISOString(), limit] });
  return rows.map((row) => row.check_id);
}

// Served by the GIN index on location_ids. Under the checks' row locks (in id order, as every
// writer of their health): an evaluation in flight cannot write its later deadline over this one.
const MAKE_DUE_AT = `
  UPDATE check_health SET stale_at = $2::timestamptz
  WHERE check_id IN (
    SELECT c.id FROM check_health h JOIN checks c ON c.id = h.check_id
    WHERE h.location_ids && $1::text[] AND (h.stale_at IS NULL OR h.stale_at > $2::timestamptz)
    ORDER BY c.id FOR NO KEY UPDATE OF c)`;

/**
 * The checks these satellites observe are due now: the deadline monitor re-evaluates them at
 * its next sweep (their locations turn unobservable). Runs in the satellite edge's transaction.
 */
export async function makeLocationsDue(db: SqlClient, satelliteIds: readonly string[], now: number): Promise<void> {
  if (satelliteIds.length === 0) return;
  await db.query({ name: "vantage_check_health_make_due", text: MAKE_DUE_AT, values: [satelliteIds, new Date(now).toISOString()] });
}

/** The checks a satellite observes: how many, and the first names (sorted). */
export interface AffectedChecks {
  count: number;
  names: string[];
}

const AFFECTED_CHECKS = `
  SELECT s.id AS satellite_id, count(c.id)::int AS count, (array_agg(c.name ORDER BY c.name))[1:$2] AS names
  FROM unnest($1::text[]) AS s(id)
  JOIN check_health h ON h.location_ids @> ARRAY[s.id]
  JOIN checks c ON c.id = h.check_id
  GROUP BY s.id`;

/** For each satellite, the checks it is a location of (absent: none). */
export async function readAffectedChecks(db: SqlClient, satelliteIds: readonly string[], firstNames: number): Promise<Map<string, AffectedChecks>> {
  if (satelliteIds.length === 0) return new Map();
  const { rows } = await db.query<{ satellite_id: string; count: number; names: string[] }>({
    name: "vantage_check_health_affected",
    text: AFFECTED_CHECKS,
    values: [satelliteIds, firstNames],
  });
  return new Map(rows.map((row) => [row.satellite_id, { count: row.count, names: row.names }]));
}

/**
 * Whether the check runs at `location` now: the core if runOn.core, a satellite its selector
 * selects, `push` for a heartbeat check. Results from anywhere else (a run on demand from a
 * satellite runOn does not select) do not count; where it no longer runs, its health drops the location.
 */
export function runsAt(schedule: CheckSchedule, location: string, facts: Pick<LocationFacts, "selectableOf">): boolean {
  if (location === CORE_LOCATION) return schedule.runOn.core;
  if (location === PUSH_LOCATION) return schedule.pushGraceSeconds !== null;
  const satellite = facts.selectableOf(location);
  return satellite !== undefined && schedule.runOn.satellites !== null && selects(schedule.runOn.satellites, satellite);
}
