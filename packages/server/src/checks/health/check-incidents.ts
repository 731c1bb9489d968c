// A check's incidents, read from the check-health entity's history: an incident is a period
// the check spent in `unhealthy` (or, asked for, `degraded` as a lesser severity), from the
// change that entered it to the next status change (null while it lasts). Keyset pages,
// newest first, through the transitions' (kind, entity_id, field, seq) index.
import type { SqlClient } from "../../entities/index.ts";
import { CHECK_HEALTH_ENTITY_KIND } from "./check-health-entity.ts";

export const INCIDENT_SEVERITIES = ["unhealthy", "degraded"] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];
export const DEFAULT_INCIDENT_PAGE = 50;
export const MAX_INCIDENT_PAGE = 500;

// Times are the entity's own `since` (the evaluation's clock), not the commit's.
const INCIDENTS = `
  SELECT s.seq::text AS seq, s.to_value #>> '{}' AS severity, sc.next ->> 'since' AS started_at, sc.next ->> 'reason' AS reason,
         sc.next -> 'locations' AS locations, e.ended_at
  FROM entity_transitions s
  JOIN entity_changes sc ON sc.seq = s.seq
  LEFT JOIN LATERAL (
    SELECT coalesce(ec.next ->> 'since', to_char(ec.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS ended_at
    FROM entity_transitions t JOIN entity_changes ec ON ec.seq = t.seq
    WHERE t.kind = s.kind AND t.entity_id = s.entity_id AND t.field = 'status' AND t.seq > s.seq
    ORDER BY t.seq LIMIT 1
  ) e ON true
  WHERE s.kind = '${CHECK_HEALTH_ENTITY_KIND}' AND s.entity_id = $1 AND s.field = 'status'
    AND (s.to_value #>> '{}') = ANY ($2::text[]) AND ($3::bigint IS NULL OR s.seq < $3)
  ORDER BY s.seq DESC LIMIT $4`;

export interface Incident {
  /** Stable: the recorded change that opened it. */
  id: string;
  severity: IncidentSeverity;
  start: string;
  /** Null while it lasts. */
  end: string | null;
  /** Until the end, or until now while it lasts. */
  durationMs: number;
  /** The health's reason when it opened: which locations, and what they saw. */
  reason: string;
  /** The locations failing (or degraded) when it opened, with their status. */
  locations: Record<string, string>;
}

export interface IncidentPage {
  incidents: Incident[];
  /** The `cursor` of the next (older) page; null on the last. */
  nextCursor: string | null;
}

export interface IncidentQuery {
  limit: number;
  severities: readonly IncidentSeverity[];
  /** The nextCursor of the previous page. */
  cursor?: string;
}

interface IncidentRow {
  seq: string;
  severity: IncidentSeverity;
  started_at: string;
  reason: string;
  locations: Record<string, { status: string }> | null;
  ended_at: string | null;
}

const FAILING = new Set(["unhealthy", "degraded"]);

export async function listIncidents(db: SqlClient, checkId: string, query: IncidentQuery, now: number): Promise<IncidentPage> {
  const { rows } = await db.query<IncidentRow>({
    name: "vantage_check_incidents",
    text: INCIDENTS,
    values: [checkId, query.severities, query.cursor ?? null, query.limit],
  });
  const incidents = rows.map((row): Incident => {
    const start = Date.parse(row.started_at);
    const end = row.ended_at === null ? null : Date.parse(row.ended_at);
    const locations = Object.entries(row.locations ?? {}).filter(([, location]) => FAILING.has(location.status));
    return {
      id: row.seq,
      severity: row.severity,
      start: new Date(start).toISOString(),
      end: end === null ? null : new Date(end).toISOString(),
      durationMs: Math.max(0, (end ?? now) - start),
      reason: row.reason,
      locations: Object.fromEntries(locations.map(([name, location]) => [name, location.status])),
    };
  });
  return { incidents, nextCursor: rows.length === query.limit ? rows.at(-1)!.seq : null };
}
