// One evaluation of a check's health, pure: the previous record, the results that arrived and
// the facts of the moment (satellite presence, the clock) in; the next record out — per
// location state, the policy's verdict, the reason a person reads, flapping and staleness.
import type { CheckHealthOptions } from "@vantage/protocol";
import { type FlapState, nextFlapState } from "./flapping.ts";
import { applyPolicy, type CheckHealthStatus, type PolicyVerdict } from "./health-policy.ts";
import {
  applyResult,
  awaitsVerdict,
  type LocationRecord,
  type LocationResult,
  type LocationStatus,
  newLocationRecord,
  observe,
  shownStatus,
  staleAt,
  type UnobservableReason,
} from "./location-health.ts";

/** What is stored per check (a check_health row). */
export interface CheckHealthRecord {
  status: CheckHealthStatus;
  /** ISO time the status began. */
  since: string;
  reason: string;
  flapping: boolean;
  maintenance: boolean;
  locations: Record<string, LocationRecord>;
  /** The flap window (see flapping.ts). */
  flapHistory: string;
  /** ISO instant the first observable location goes stale without a new result (or earlier, see nextStaleAt); null if none can. */
  staleAt: string | null;
}

export interface HealthEvaluationInput {
  previous: CheckHealthRecord | null;
  /** This check's new results, any order; several per location are applied oldest first. */
  results: readonly LocationResult[];
  options: CheckHealthOptions;
  /** interval + timeout + grace, in milliseconds. */
  stalenessMs: number;
  /** A location's presence: a satellite's by `computeStatus`; the core is always online. */
  presence: (location: string) => "online" | "offline";
  /** The name a person knows a location by (the satellite's name, "core"). */
  nameOf: (location: string) => string;
  /** Whether a maintenance window is on for the check now (read with the record); kept as it was when not given. */
  maintenance?: boolean;
  /** Epoch milliseconds. */
  now: number;
  /** A heartbeat check: a silent location failed (a missed ping), it is not unobservable. */
  silenceIsFailure?: boolean;
  /** Given when the check's definition changed: the locations where it no longer runs are dropped. */
  runsAt?: (location: string) => boolean;
}

/**
 * interval + timeout + grace: how long a location may stay silent and still observe. For a
 * heartbeat check (`pushGraceSeconds` set), period + its grace: the ping's deadline.
 */
export function stalenessMsOf(
  check: { intervalSeconds: number; timeoutMs: number; pushGraceSeconds?: number | null },
  options: Pick<CheckHealthOptions, "graceSeconds">,
): number {
  if (typeof check.pushGraceSeconds === "number") return (check.intervalSeconds + check.pushGraceSeconds) * 1000;
  return check.intervalSeconds * 1000 + check.timeoutMs + options.graceSeconds * 1000;
}

export function evaluateCheckHealth(input: HealthEvaluationInput): CheckHealthRecord {
  const { previous, options, stalenessMs, now } = input;
  const nowIso = new Date(now).toISOString();
  const locations: Record<string, LocationRecord> = { ...previous?.locations };
  if (input.runsAt) for (const location of Object.keys(locations)) if (!input.runsAt(location)) delete locations[location];
  const results = input.results.length > 1 ? [...input.results].sort((a, b) => a.startedAt - b.startedAt) : input.results;
  for (const result of results) {
    locations[result.location] = applyResult(locations[result.location] ?? newLocationRecord(nowIso), result, options, nowIso);
  }
  // One pass over the locations (it runs for every check of every batch): each brought up to
  // date, its shown status, and the earliest deadline still ahead — one already behind (a
  // location unobservable for another reason, whose silence changes nothing now) is no
  // deadline: the staleness monitor would claim it at every sweep.
  const statuses: LocationStatus[] = [];
  let earliestStaleAt = Infinity;
  for (const location in locations) {
    const facts = { presence: input.presence(location), stalenessMs, now, silenceIsFailure: input.silenceIsFailure };
    const record = observe(locations[location]!, facts, nowIso);
    locations[location] = record;
    statuses.push(shownStatus(record));
    const at = staleAt(record, stalenessMs);
    if (at !== null && at >= now && at < earliestStaleAt) earliestStaleAt = at;
  }
  const verdict = applyPolicy(options.policy, statuses);
  const changed = previous !== null && previous.status !== verdict.status;
  const flap: FlapState = nextFlapState({ history: previous?.flapHistory ?? "", flapping: previous?.flapping ?? false }, changed);
  return {
    status: verdict.status,
    since: previous === null || changed ? nowIso : previous.since,
    reason: healthReason(verdict, locations, input.nameOf),
    flapping: flap.flapping,
    maintenance: input.maintenance ?? previous?.maintenance ?? false,
    locations,
    flapHistory: flap.history,
    staleAt: nextStaleAt(previous?.staleAt ?? null, earliestStaleAt === Infinity ? null : earliestStaleAt, now),
  };
}

/**
 * The stale_at to store: the true instant, or the one stored while that is still ahead and
 * not later. Earlier is safe — the staleness monitor then evaluates the check, finds nothing
 * stale and stores the true instant — and it keeps the indexed column still under a stream of
 * results, so their updates stay HOT (one index entry per check per staleness period, not per result).
 */
export function nextStaleAt(stored: string | null, computed: number | null, now: number): string | null {
  if (computed === null) return null;
  const kept = stored === null ? null : Date.parse(stored);
  return kept !== null && kept > now && kept <= computed ? stored : new Date(computed).toISOString();
}

const UNOBSERVABLE_TEXT: Record<UnobservableReason, (record: LocationRecord) => string> = {
  satellite_offline: () => "satellite offline",
  // Since an instant, not for a duration: the reason must not change while nothing else does.
  stale: (record) => (record.lastResultAt === null ? "no result yet" : `no result since ${record.lastResultAt}`),
  probe_error: () => "probe error",
};

interface NamedLocation {
  name: string;
  record: LocationRecord;
  status: LocationStatus;
}

// The helpers below are module functions, not closures made per call: healthReason runs for
// every check of every batch.
/** Observing, but no verdict yet (location-health.ts): its failures so far, below the streak. */
const noVerdictYet = (record: LocationRecord) => record.unobservable === null && awaitsVerdict(record);
const failingSoFar = (record: LocationRecord) => record.problem ?? "failing";
const unobservableText = (record: LocationRecord) =>
  noVerdictYet(record) ? `no verdict yet: ${failingSoFar(record)}` : UNOBSERVABLE_TEXT[record.unobservable ?? "stale"](record);
const problemText = (record: LocationRecord, status: LocationStatus) => record.problem ?? status;
const listed = (entries: readonly NamedLocation[], text: (record: LocationRecord, status: LocationStatus) => string) =>
  entries.map((entry) => `${entry.name} (${text(entry.record, entry.status)})`).join(", ");
const byName = (a: NamedLocation, b: NamedLocation) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function problemsText(observable: readonly NamedLocation[], status: LocationStatus): string {
  const entries = observable.filter((entry) => entry.status === status);
  return `${entries.length} of ${observable.length} locations ${status === "unhealthy" ? "failing" : status}: ${listed(entries, problemText)}`;
}

/**
 * The reason a person reads: which locations, and what each saw. "2 of 3 locations failing:
 * eu-1 (status 503, expected 2xx), us-1 (timeout 10 s)"; the counts are of observable
 * locations, and the unobservable ones follow after a semicolon.
 */
export function healthReason(verdict: PolicyVerdict, locations: Readonly<Record<string, LocationRecord>>, nameOf: (location: string) => string): string {
  // The common case names no location: every one observes, and all are healthy.
  if (verdict.outcome === "healthy") {
    let observed = 0;
    for (const location in locations) if (shownStatus(locations[location]!) !== "unobservable") observed++;
    if (observed === Object.keys(locations).length) return `${observed} of ${observed} locations healthy`;
  }
  const named: NamedLocation[] = [];
  for (const location in locations) {
    const record = locations[location]!;
    named.push({ name: nameOf(location), record, status: shownStatus(record) });
  }
  named.sort(byName);
  const observable = named.filter((entry) => entry.status !== "unobservable");
  const unobservable = named.filter((entry) => entry.status === "unobservable");
  const suffix = unobservable.length === 0 ? "" : `; unobservable: ${listed(unobservable, unobservableText)}`;
  switch (verdict.outcome) {
    case "no_observers":
      if (named.length === 0) return "no results yet";
      // A new check whose first results fail: its locations observe, they have not concluded.
      if (named.every((entry) => noVerdictYet(entry.record))) return `no verdict yet: ${listed(named, failingSoFar)}`;
      return `no location can observe the check: ${listed(unobservable, unobservableText)}`;
    case "quorum_unavailable":
      return `quorum_unavailable: ${observable.length} of ${named.length} locations observable, ${verdict.needed} needed${suffix}`;
    case "failing":
      return `${problemsText(observable, "unhealthy")}${suffix}`;
    case "partial_outage":
      return `partial outage: ${problemsText(observable, "unhealthy")}${suffix}`;
    case "degraded_locations":
      return `${problemsText(observable, "degraded")}${suffix}`;
    case "healthy":
      return `${observable.length} of ${observable.length} locations healthy${suffix}`;
  }
}
