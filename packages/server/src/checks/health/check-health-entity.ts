// The check-health entity: its state schema, how a stored record becomes that state, and how
// its changes become the check.* trigger events (with the payload automations receive).
import type { EntityChanged } from "@vantage/protocol";
import { z } from "zod";
import type { CheckHealthRecord } from "./evaluate-check-health.ts";
import { shownStatus } from "./location-health.ts";

export const CHECK_HEALTH_ENTITY_KIND = "check-health";

export const CHECK_UNHEALTHY_EVENT = "check.unhealthy";
export const CHECK_DEGRADED_EVENT = "check.degraded";
export const CHECK_RECOVERED_EVENT = "check.recovered";
export const CHECK_UNKNOWN_EVENT = "check.unknown";
export const CHECK_HEALTH_CHANGED_EVENT = "check.health_changed";
export const CHECK_FLAPPING_STARTED_EVENT = "check.flapping_started";
export const CHECK_FLAPPING_STOPPED_EVENT = "check.flapping_stopped";

export const checkHealthStatusSchema = z.enum(["healthy", "degraded", "unhealthy", "unknown"]);
export const locationStatusSchema = z.enum(["healthy", "degraded", "unhealthy", "unobservable"]);

export const locationHealthSchema = z.object({
  status: locationStatusSchema,
  /** ISO time the location's status began. */
  since: z.string(),
  /** ISO start time of the location's newest result. */
  lastResultAt: z.string().nullable(),
});

export const checkHealthStateSchema = z.object({
  status: checkHealthStatusSchema,
  /** ISO time the status began. */
  since: z.string(),
  /** Which locations and what each saw: "2 of 3 locations failing: eu-1 (status 503, expected 2xx), …". */
  reason: z.string(),
  /** By location: "core" or a satellite's id. */
  locations: z.record(z.string(), locationHealthSchema),
  flapping: z.boolean(),
  maintenance: z.boolean(),
  /** The check as it is now (read with the state), for payloads and conditions. */
  name: z.string(),
  type: z.string(),
  /** What it probes: the URL, host:port or the name it resolves. */
  target: z.string(),
  labels: z.record(z.string(), z.string()),
});
export type CheckHealthState = z.infer<typeof checkHealthStateSchema>;

/** The check's own fields the state carries. */
export interface CheckFacts {
  name: string;
  type: string;
  target: string;
  labels: Record<string, string>;
}

/** What a check probes, from its definition's fields, in one line. */
export function targetOf(fields: { url?: string | null; host?: string | null; port?: string | number | null; queryName?: string | null }): string {
  if (fields.url) return fields.url;
  if (fields.host) return fields.port ? `${fields.host}:${fields.port}` : fields.host;
  return fields.queryName ?? "";
}

export function toCheckHealthState(record: CheckHealthRecord, check: CheckFacts): CheckHealthState {
  const locations = Object.fromEntries(
    Object.entries(record.locations).map(([location, entry]) => [
      location,
      { status: shownStatus(entry), since: entry.since, lastResultAt: entry.lastResultAt },
    ]),
  );
  return { status: record.status, since: record.since, reason: record.reason, locations, flapping: record.flapping, maintenance: record.maintenance, ...check };
}

/**
 * Whether the state shown for `next` differs from `previous`'s beyond what changes with every
 * result (each location's lastResultAt, and the streaks and times the state does not show):
 * two records equal here need no recorded change — the row is still written, as a satellite's
 * heartbeat is, but the outbox does not grow by a row per result. Compared field by field (it
 * runs for every check of every batch), over what `toCheckHealthState` shows of a record.
 */
export function materiallyDiffers(previous: CheckHealthRecord | null, next: CheckHealthRecord): boolean {
  if (previous === null) return true;
  if (
    previous.status !== next.status ||
    previous.since !== next.since ||
    previous.reason !== next.reason ||
    previous.flapping !== next.flapping ||
    previous.maintenance !== next.maintenance
  )
    return true;
  const locations = Object.keys(next.locations);
  if (locations.length !== Object.keys(previous.locations).length) return true;
  return locations.some((location) => {
    const before = previous.locations[location];
    const after = next.locations[location]!;
    return before === undefined || before.since !== after.since || shownStatus(before) !== shownStatus(after);
  });
}

type Status = z.infer<typeof checkHealthStatusSchema>;

/** The events a new status fires, given the one before (dispatch table). */
const STATUS_EVENTS: Record<Status, (previous: Status) => string[]> = {
  unhealthy: () => [CHECK_UNHEALTHY_EVENT],
  degraded: (previous) => (previous === "unhealthy" ? [CHECK_RECOVERED_EVENT, CHECK_DEGRADED_EVENT] : [CHECK_DEGRADED_EVENT]),
  // Leaving unhealthy is a recovery; unknown → healthy is not (nobody knew it was down).
  healthy: (previous) => (previous === "unhealthy" ? [CHECK_RECOVERED_EVENT] : []),
  unknown: () => [CHECK_UNKNOWN_EVENT],
};

/**
 * The change deriver. A status change fires `check.health_changed` and the new status's own
 * event (`check.recovered` when it leaves unhealthy for healthy or degraded); a check's first
 * state fires only when it is not healthy (a new check coming up healthy is no news); flapping
 * starting or stopping fires its own event. A tombstone fires nothing.
 */
export function deriveCheckHealthEvents(change: EntityChanged): string[] {
  const next = checkHealthStatusSchema.safeParse(change.next?.status);
  if (!next.success) return [];
  const prev = checkHealthStatusSchema.safeParse(change.prev?.status);
  const previous: Status = prev.success ? prev.data : "unknown";
  const events: string[] = [];
  const created = change.prev === null;
  if (previous !== next.data && !(created && next.data === "healthy")) events.push(CHECK_HEALTH_CHANGED_EVENT, ...STATUS_EVENTS[next.data](previous));
  const wasFlapping = change.prev?.flapping === true;
  const isFlapping = change.next?.flapping === true;
  if (!wasFlapping && isFlapping) events.push(CHECK_FLAPPING_STARTED_EVENT);
  if (wasFlapping && !isFlapping) events.push(CHECK_FLAPPING_STOPPED_EVENT);
  return events;
}

export interface CheckHealthPayload {
  checkId: string;
  name: string;
  type: string;
  target: string;
  labels: Record<string, string>;
  status: Status;
  previousStatus: Status;
  reason: string;
  locations: CheckHealthState["locations"];
  since: string;
  flapping: boolean;
  maintenance: boolean;
}

/** The payload mapper: a tombstone maps to null (nothing fires for it). */
export function checkHealthChangeToPayload(change: EntityChanged): CheckHealthPayload | null {
  const next = checkHealthStateSchema.safeParse(change.next);
  if (!next.success) return null;
  const previous = checkHealthStatusSchema.safeParse(change.prev?.status);
  const { name, type, target, labels, status, reason, locations, since, flapping, maintenance } = next.data;
  return {
    checkId: change.id,
    name,
    type,
    target,
    labels,
    status,
    previousStatus: previous.success ? previous.data : "unknown",
    reason,
    locations,
    since,
    flapping,
    maintenance,
  };
}
