// The check_health table: the entity's batched read (joined with the check's own fields), the
// records an evaluation starts from, the facts it needs (each check's schedule and health
// options, each satellite location's presence) and the one statement that writes a batch.
import { type CheckHealthOptions, checkHealthOptionsSchema, DEFAULT_CHECK_HEALTH, isUuid } from "@vantage/protocol";
import type { SqlClient } from "../../entities/index.ts";
import { computeStatus } from "../../satellites/index.ts";
import { inMaintenanceSql } from "../maintenance-windows/maintenance-flag.ts";
import { CORE_LOCATION } from "../scheduling/core-runs.ts";
import { type CheckFacts, type CheckHealthState, targetOf, toCheckHealthState } from "./check-health-entity.ts";
import type { CheckHealthRecord } from "./evaluate-check-health.ts";
import type { LocationRecord } from "./location-health.ts";

const RECORD_COLUMNS = "h.check_id, h.status, h.since, h.reason, h.flapping, h.maintenance, h.locations, h.flap_history, h.stale_at";

const READ_STATES = `
  SELECT ${RECORD_COLUMNS}, c.name, c.type, c.labels,
         c.definition ->> 'url' AS url, c.definition ->> 'host' AS host, c.definition ->> 'port' AS port, c.definition ->> 'queryName' AS query_name
  FROM check_health h JOIN checks c ON c.id = h.check_id
  WHERE h.check_id = ANY($1::uuid[])`;

// What an evaluation starts from, in one round trip: each check's schedule and health options,
// its record when it has one, and whether a maintenance window is on for it now. A check
// deleted since its results were taken is absent.
const LOAD_EVALUATION = `
  SELECT c.id, c.interval_seconds, c.timeout_ms, c.definition -> 'health' AS health, ${RECORD_COLUMNS},
         ${inMaintenanceSql("c", "$2::timestamptz")} AS in_maintenance
  FROM checks c LEFT JOIN check_health h ON h.check_id = c.id
  WHERE c.id = ANY($1::uuid[])`;

const SATELLITE_PRESENCE = `
  SELECT id::text, name, last_heartbeat_at, offline_threshold_ms
  FROM satellites WHERE id = ANY($1::uuid[])`;

// One statement for the batch; the rows arrive as one JSON array (locations are documents).
const UPSERT_RECORDS = `
  INSERT INTO check_health (check_id, status, since, reason, flapping, maintenance, locations, flap_history, stale_at, evaluated_at)
  SELECT check_id, status, since, reason, flapping, maintenance, locations, flap_history, stale_at, $2::timestamptz
  FROM jsonb_to_recordset($1::jsonb) AS r(check_id uuid, status text, since timestamptz, reason text, flapping boolean, maintenance boolean,
                                          locations jsonb, flap_history text, stale_at timestamptz)
  ON CONFLICT (check_id) DO UPDATE SET
    status = excluded.status, since = excluded.since, reason = excluded.reason, flapping = excluded.flapping,
    maintenance = excluded.maintenance, locations = excluded.locations, flap_history = excluded.flap_history,
    stale_at = excluded.stale_at, evaluated_at = excluded.evaluated_at`;

// The records that exist already and moved only by their results' times: a plain UPDATE (no
// speculative insert), the most common write by far.
const UPDATE_RECORDS = `
  UPDATE check_health h SET
    status = r.status, since = r.since, reason = r.reason, flapping = r.flapping, maintenance = r.maintenance,
    locations = r.locations, flap_history = r.flap_history, stale_at = r.stale_at, evaluated_at = $2::timestamptz
  FROM jsonb_to_recordset($1::jsonb) AS r(check_id uuid, status text, since timestamptz, reason text, flapping boolean, maintenance boolean,
                                          locations jsonb, flap_history text, stale_at timestamptz)
  WHERE h.check_id = r.check_id`;

interface RecordRow {
  check_id: string;
  status: CheckHealthRecord["status"];
  since: Date;
  reason: string;
  flapping: boolean;
  maintenance: boolean;
  locations: Record<string, LocationRecord>;
  flap_history: string;
  stale_at: Date | null;
}

function recordOf(row: RecordRow): CheckHealthRecord {
  return {
    status: row.status,
    since: row.since.toISOString(),
    reason: row.reason,
    flapping: row.flapping,
    maintenance: row.maintenance,
    locations: row.locations,
    flapHistory: row.flap_history,
    staleAt: row.stale_at?.toISOString() ?? null,
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
}

/** Each check's schedule and health options, its stored record (null before its first evaluation) and whether it is in maintenance at `now`. */
export async function loadEvaluation(
  db: SqlClient,
  ids: readonly string[],
  now: number,
): Promise<Map<string, { schedule: CheckSchedule; record: CheckHealthRecord | null; maintenance: boolean }>> {
  const { rows } = await db.query<
    { id: string; interval_seconds: number; timeout_ms: number; health: unknown; in_maintenance: boolean } & (RecordRow | { [K in keyof RecordRow]: null })
  >({
    name: "vantage_check_health_load",
    text: LOAD_EVALUATION,
    values: [ids, new Date(now).toISOString()],
  });
  return new Map(
    rows.map((row) => {
      // A definition stored before health options existed has none: the defaults apply.
      const parsed = checkHealthOptionsSchema.safeParse(row.health ?? {});
      const schedule = { intervalSeconds: row.interval_seconds, timeoutMs: row.timeout_ms, options: parsed.success ? parsed.data : DEFAULT_CHECK_HEALTH };
      return [row.id, { schedule, record: row.check_id === null ? null : recordOf(row as RecordRow), maintenance: row.in_maintenance }];
    }),
  );
}

/** Presence and name of each location, at `now`: the core is online; a satellite by `computeStatus`; an unknown one offline. */
export interface LocationFacts {
  presence(location: string): "online" | "offline";
  nameOf(location: string): string;
}

export async function loadLocationFacts(db: SqlClient, locations: Iterable<string>, now: number): Promise<LocationFacts> {
  const satelliteIds = [...new Set(locations)].filter((location) => location !== CORE_LOCATION && isUuid(location));
  const satellites = new Map<string, { name: string; online: boolean }>();
  if (satelliteIds.length > 0) {
    const { rows } = await db.query<{ id: string; name: string; last_heartbeat_at: Date | null; offline_threshold_ms: number | null }>({
      name: "vantage_check_health_presence",
      text: SATELLITE_PRESENCE,
      values: [satelliteIds],
    });
    for (const row of rows)
      satellites.set(row.id, {
        name: row.name,
        online: computeStatus({ lastHeartbeatAt: row.last_heartbeat_at, offlineThresholdMs: row.offline_threshold_ms }, now) === "online",
      });
  }
  return {
    presence: (location) => (location === CORE_LOCATION || satellites.get(location)?.online ? "online" : "offline"),
    nameOf: (location) => satellites.get(location)?.name ?? location,
  };
}

/** Writes the records of a batch in one statement; `existing` when every one has a row already. */
export async function writeHealthRecords(db: SqlClient, records: ReadonlyMap<string, CheckHealthRecord>, now: number, existing = false): Promise<void> {
  if (records.size === 0) return;
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
  }));
  const statement = existing ? { name: "vantage_update_check_health", text: UPDATE_RECORDS } : { name: "vantage_write_check_health", text: UPSERT_RECORDS };
  await db.query({ ...statement, values: [JSON.stringify(rows), new Date(now).toISOString()] });
}
