// One location's health, as a state machine fed with that location's results: unhealthy after
// a streak (or a window) of failures, back after a streak of successes, degraded from degraded
// results; and whether the location can observe at all (its satellite online, its results fresh).
// A new location has no verdict until its first success or its first tripped streak: failures
// below the streak say neither "healthy" nor "unhealthy" about a target it never saw up.
import type { CheckHealthOptions } from "@vantage/protocol";

/** What a location last concluded about the target, from the results it observed. */
export type LocationVerdict = "healthy" | "degraded" | "unhealthy";
/** Why a location says nothing now. It never counts as failing, nor as downtime. */
export type UnobservableReason = "satellite_offline" | "stale" | "probe_error";
/** What a location shows: its verdict, or `unobservable`. */
export type LocationStatus = LocationVerdict | "unobservable";

/** A result as the state machine sees it (the ingest's status, its start, a short problem). */
export interface LocationResult {
  location: string;
  status: "up" | "degraded" | "down" | "error";
  /** Epoch milliseconds. */
  startedAt: number;
  /** A short description of what went wrong ("status 503, expected 2xx"); null for `up`. */
  problem: string | null;
}

/** What is stored per location (the `locations` document of a check_health row). */
export interface LocationRecord {
  verdict: LocationVerdict;
  unobservable: UnobservableReason | null;
  /** ISO time the shown status began. */
  since: string;
  /** ISO start time of the newest result applied; null before the first. */
  lastResultAt: string | null;
  /** Failed results in a row, and successful (up or degraded) ones in a row. */
  failures: number;
  successes: number;
  /** The window's last results, newest last: "1" failed, "0" did not. Empty without a window. */
  recent: string;
  /** What went wrong: for an unhealthy or degraded location, the result that made it so; null after an up. */
  problem: string | null;
  /**
   * false while the location has no verdict yet: it never saw the target up (nor degraded) and
   * its failures have not tripped the streak, so it is shown unobservable — a new check whose
   * first results fail is not "healthy". Absent (records stored before it) means it has one.
   */
  concluded?: boolean;
}

export type HealthThresholds = Pick<CheckHealthOptions, "failuresToUnhealthy" | "successesToRecover" | "window">;

/** Whether the location still waits for its first verdict (see LocationRecord.concluded). */
export const awaitsVerdict = (record: Pick<LocationRecord, "concluded">): boolean => record.concluded === false;

export function shownStatus(record: Pick<LocationRecord, "verdict" | "unobservable" | "concluded">): LocationStatus {
  return record.unobservable === null && !awaitsVerdict(record) ? record.verdict : "unobservable";
}

/**
 * A location's record before its first result: no verdict yet. Its `verdict` is the one the
 * state machine starts from (a first success is healthy at once, only leaving unhealthy takes
 * `successesToRecover`); it is shown once the location concluded.
 */
export function newLocationRecord(nowIso: string): LocationRecord {
  return { verdict: "healthy", unobservable: null, since: nowIso, lastResultAt: null, failures: 0, successes: 0, recent: "", problem: null, concluded: false };
}

/**
 * Keeps `since` in step: it moves only when the shown status changes. Built field by field, not
 * spread: it runs for every result of every batch, and a literal of one shape is the cheap kind.
 */
function withSince(previous: LocationRecord, next: Omit<LocationRecord, "since">, nowIso: string): LocationRecord {
  return {
    verdict: next.verdict,
    unobservable: next.unobservable,
    since: shownStatus(previous) === shownStatus(next) ? previous.since : nowIso,
    lastResultAt: next.lastResultAt,
    failures: next.failures,
    successes: next.successes,
    recent: next.recent,
    problem: next.problem,
    concluded: next.concluded,
  };
}

/** The failures in a window ("1" failed): counted in place, it runs for every result. */
function failureCount(recent: string): number {
  let failures = 0;
  for (let i = 0; i < recent.length; i++) if (recent.charCodeAt(i) === 49 /* "1" */) failures++;
  return failures;
}

/**
 * The record after one more result. A result not newer than the last one applied (a replayed
 * buffer, a late resend) changes nothing: late results never rewind a location. An `error`
 * (the probe itself could not run) says nothing about the target: the location is
 * unobservable until its next real result, and its streaks are left alone.
 */
export function applyResult(record: LocationRecord, result: LocationResult, thresholds: HealthThresholds, nowIso: string): LocationRecord {
  // Both in toISOString's fixed-width UTC form: compared as strings, without parsing.
  const lastResultAt = new Date(result.startedAt).toISOString();
  if (record.lastResultAt !== null && lastResultAt <= record.lastResultAt) return record;
  if (result.status === "error") {
    return withSince(record, { ...record, unobservable: "probe_error", lastResultAt }, nowIso);
  }
  const failed = result.status === "down";
  const windowSize = thresholds.window?.size ?? 0;
  const recent = windowSize === 0 ? "" : `${record.recent}${failed ? "1" : "0"}`.slice(-windowSize);
  const failures = failed ? record.failures + 1 : 0;
  const successes = failed ? 0 : record.successes + 1;
  const tripped = thresholds.window ? failureCount(recent) >= thresholds.window.failures : failures >= thresholds.failuresToUnhealthy;
  const verdict = nextVerdict(record.verdict, result.status, { tripped, recovered: successes >= thresholds.successesToRecover });
  // A verdict once given stays given; the first one is a success (up or degraded) or a trip.
  const concluded = record.concluded !== false || !failed || tripped;
  // A verdict keeps the problem that brought it: the reason must not change with every result
  // (a latency in it would record a change per result) while nothing else does.
  const keepProblem = verdict === record.verdict && verdict !== "healthy" && record.problem !== null;
  const problem = result.status === "up" ? null : keepProblem ? record.problem : result.problem;
  return withSince(record, { verdict, unobservable: null, lastResultAt, failures, successes, recent, problem, concluded }, nowIso);
}

/** The dispatch of one observed result: only a tripped failure streak turns a location unhealthy. */
function nextVerdict(current: LocationVerdict, status: "up" | "degraded" | "down", streaks: { tripped: boolean; recovered: boolean }): LocationVerdict {
  switch (status) {
    case "down":
      return streaks.tripped ? "unhealthy" : current;
    case "up":
      return current === "unhealthy" && !streaks.recovered ? "unhealthy" : "healthy";
    case "degraded":
      return current === "unhealthy" && !streaks.recovered ? "unhealthy" : "degraded";
  }
}

/** What decides, at one instant, whether a location can observe. */
export interface ObservabilityFacts {
  /** The satellite's presence by the one `computeStatus`; "online" for the core (it is the one observing). */
  presence: "online" | "offline";
  /** interval + timeout + grace, in milliseconds: a location silent for longer is stale. */
  stalenessMs: number;
  now: number;
  /**
   * A push location (heartbeat check): silence past its deadline is the failure itself — the
   * job did not ping — so the location turns unhealthy instead of unobservable.
   */
  silenceIsFailure?: boolean;
}

/** The text of a missed deadline: from an instant, so the reason holds still while nothing else moves. */
export const missedPingProblem = (lastResultAt: string) => `no ping since ${lastResultAt}`;

/** A push location after its deadline: unhealthy (once), whatever its streaks said. */
function missedDeadline(record: LocationRecord, facts: ObservabilityFacts, nowIso: string): LocationRecord {
  if (record.lastResultAt === null || !isStale(record, facts)) return record;
  const problem = missedPingProblem(record.lastResultAt);
  if (record.verdict === "unhealthy" && record.problem === problem && record.unobservable === null) return record;
  return withSince(record, { ...record, verdict: "unhealthy", unobservable: null, successes: 0, problem, concluded: true }, nowIso);
}

/**
 * The record with its observability brought up to date: an offline satellite first, then a
 * stale (or never arrived) result, then a probe error that no real result followed yet.
 */
export function observe(record: LocationRecord, facts: ObservabilityFacts, nowIso: string): LocationRecord {
  if (facts.silenceIsFailure) return missedDeadline(record, facts, nowIso);
  const unobservable: UnobservableReason | null =
    facts.presence === "offline" ? "satellite_offline" : isStale(record, facts) ? "stale" : record.unobservable === "probe_error" ? "probe_error" : null;
  if (unobservable === record.unobservable) return record;
  return withSince(record, { ...record, unobservable }, nowIso);
}

function isStale(record: LocationRecord, facts: ObservabilityFacts): boolean {
  return record.lastResultAt === null || facts.now - Date.parse(record.lastResultAt) > facts.stalenessMs;
}

/** The instant the location goes stale unless a result comes first; null when it is already. */
export function staleAt(record: LocationRecord, stalenessMs: number): number | null {
  if (record.lastResultAt === null || record.unobservable === "stale") return null;
  if (record.problem !== null && record.problem === missedPingProblem(record.lastResultAt)) return null;
  return Date.parse(record.lastResultAt) + stalenessMs;
}
