// A check's past on its detail screen: uptime and reachability over 24 h, 7 d or 90 d (overall
// and per location), its incidents as a timeline over that range and as a list, and "why" —
// each change of its health with the reason, who or what caused it and the runs it started.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type CheckUptime, type Incident, operationsApi } from "../../../api/operations-client.ts";
import { Badge, ErrorMessage, Loading, TimeAgo, useNow } from "../../../ui/components.tsx";
import { formatExact, formatSpan } from "../../../ui/time.ts";
import { ChangeList } from "../../history/change-list.tsx";
import { formatAvailability } from "../list/uptime-bar-model.ts";

export const UPTIME_RANGES = { "24h": 86_400_000, "7d": 7 * 86_400_000, "90d": 90 * 86_400_000 } as const;
export type UptimeRange = keyof typeof UPTIME_RANGES;
const INCIDENT_PAGE = 50;
const HISTORY_PAGE = 20;

/** The narrowest span a timeline draws (% of its width). */
const MIN_SPAN_PERCENT = 0.4;

/** An incident's place on a timeline of [from, to): left and width in %, clipped to the range. */
export function incidentSpan(incident: Pick<Incident, "start" | "end">, from: number, to: number, now: number): { left: number; width: number } | null {
  const start = Math.max(Date.parse(incident.start), from);
  const end = Math.min(incident.end === null ? now : Date.parse(incident.end), to);
  if (end <= start) return null;
  const span = to - from;
  // At least a sliver, so a minute-long incident in 90 days still shows — inside the bar, even at its end.
  const width = Math.max(((end - start) / span) * 100, MIN_SPAN_PERCENT);
  return { left: Math.min(((start - from) / span) * 100, 100 - width), width };
}

/**
 * The part of the timeline [from, to) before the check existed, in % from the left: the bar is
 * green only where the check was there to be healthy (a check made a minute ago showed 24 h of
 * green). Null when it existed over the whole range.
 */
export function beforeCreatedSpan(createdAt: string | undefined, from: number, to: number): { width: number } | null {
  const created = createdAt === undefined ? NaN : Date.parse(createdAt);
  if (!(created > from)) return null;
  // Leaves the check's own time at least a sliver, as incidentSpan gives an incident.
  return { width: Math.min(((created - from) / (to - from)) * 100, 100 - MIN_SPAN_PERCENT) };
}

/** `createdAt`: the check's, so the timeline shows the time before it as no data. */
export function CheckHistory({ checkId, createdAt, nameOf }: { checkId: string; createdAt?: string; nameOf: (location: string) => string }) {
  const [range, setRange] = useState<UptimeRange>("24h");
  return (
    <>
      <section aria-label="Uptime">
        <h2>Uptime and incidents</h2>
        <div className="tabs" role="tablist" aria-label="Uptime range">
          {(Object.keys(UPTIME_RANGES) as UptimeRange[]).map((name) => (
            <a
              key={name}
              href={`#uptime-${name}`}
              role="tab"
              aria-selected={range === name}
              data-status={range === name ? "active" : undefined}
              onClick={(event) => (event.preventDefault(), setRange(name))}
            >
              {name}
            </a>
          ))}
        </div>
        <UptimeAndIncidents checkId={checkId} createdAt={createdAt} range={range} nameOf={nameOf} />
      </section>
      <HealthHistory checkId={checkId} />
    </>
  );
}

function UptimeAndIncidents({
  checkId,
  createdAt,
  range,
  nameOf,
}: {
  checkId: string;
  createdAt: string | undefined;
  range: UptimeRange;
  nameOf: (location: string) => string;
}) {
  const now = useNow(60_000);
  // The range's end moves with the display clock a minute at a time, so the key stays put in between.
  const to = Math.ceil(now / 60_000) * 60_000;
  const from = to - UPTIME_RANGES[range];
  const uptime = useQuery({
    queryKey: ["check", checkId, "uptime", range, to],
    queryFn: ({ signal }) => operationsApi.checks.uptime(checkId, { from: new Date(from).toISOString(), to: new Date(to).toISOString() }, signal),
    placeholderData: (previous) => previous,
  });
  const incidents = useQuery({
    queryKey: ["check", checkId, "incidents"],
    queryFn: ({ signal }) => operationsApi.checks.incidents(checkId, INCIDENT_PAGE, signal),
  });
  const inRange = (incidents.data?.incidents ?? []).filter((incident) => incidentSpan(incident, from, to, now) !== null);
  const beforeCreated = beforeCreatedSpan(createdAt, from, to);
  return (
    <div className="card">
      <ErrorMessage error={uptime.error ?? incidents.error} title="Could not load the uptime" />
      {uptime.data ? <UptimeFigures uptime={uptime.data} nameOf={nameOf} /> : <Loading what="uptime" />}
      <div
        className="timeline"
        role="img"
        aria-label={`Incidents over the last ${range}: ${inRange.length}${beforeCreated ? `; the check was created ${formatExact(createdAt!)}` : ""}`}
      >
        {beforeCreated ? (
          <span
            className="timeline-span none"
            style={{ left: 0, width: `${beforeCreated.width}%` }}
            title={`No data: the check was created ${formatExact(createdAt!)}`}
          />
        ) : null}
        {inRange.map((incident) => {
          const span = incidentSpan(incident, from, to, now)!;
          return (
            <span
              key={incident.id}
              className={`timeline-span ${incident.severity === "unhealthy" ? "bad" : "warn"}`}
              style={{ left: `${span.left}%`, width: `${span.width}%` }}
              title={`${incident.severity} ${formatExact(incident.start)} – ${incident.end ? formatExact(incident.end) : "now"}: ${incident.reason}`}
            />
          );
        })}
      </div>
      <div className="timeline-axis muted">
        <span>{range} ago</span>
        <span>now</span>
      </div>
      {incidents.data && incidents.data.incidents.length === 0 ? <p className="muted">No incident recorded.</p> : null}
      {incidents.data && incidents.data.incidents.length > 0 ? (
        <ol className="incidents" aria-label="Incidents">
          {incidents.data.incidents.map((incident) => (
            <li key={incident.id}>
              <Badge tone={incident.severity === "unhealthy" ? "bad" : "warn"}>{incident.severity}</Badge>{" "}
              {incident.end === null ? <strong>ongoing</strong> : null} <TimeAgo at={incident.start} />
              <span className="muted"> · {formatSpan(incident.durationMs)}</span>
              <div>{incident.reason}</div>
              {Object.keys(incident.locations).length > 0 ? (
                <div className="muted">
                  {Object.entries(incident.locations)
                    .map(([location, status]) => `${nameOf(location)}: ${status}`)
                    .join(" · ")}
                </div>
              ) : null}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

function UptimeFigures({ uptime, nameOf }: { uptime: CheckUptime; nameOf: (location: string) => string }) {
  const locations = Object.entries(uptime.locations).sort(([a], [b]) => nameOf(a).localeCompare(nameOf(b)));
  return (
    <>
      <div className="figures">
        <div>
          <div className="muted">Uptime</div>
          <div className="value" aria-label="Uptime">
            {formatAvailability(uptime.uptime)}
          </div>
        </div>
        <div>
          <div className="muted">Reachability</div>
          <div className="value" aria-label="Reachability">
            {formatAvailability(uptime.reachability)}
          </div>
        </div>
        <div>
          <div className="muted">Unhealthy for</div>
          <div className="value">{formatSpan(uptime.durations.unhealthyMs)}</div>
        </div>
        {uptime.durations.maintenanceMs > 0 ? (
          <div>
            <div className="muted">In maintenance</div>
            <div className="value">{formatSpan(uptime.durations.maintenanceMs)}</div>
          </div>
        ) : null}
      </div>
      {locations.length > 1 ? (
        <p className="muted" style={{ fontSize: 13 }}>
          {locations
            .map(([location, figures]) => `${nameOf(location)}: ${formatAvailability(figures.uptime)} up, ${formatAvailability(figures.reachability)} reached`)
            .join(" · ")}
        </p>
      ) : null}
    </>
  );
}

function HealthHistory({ checkId }: { checkId: string }) {
  const history = useQuery({
    queryKey: ["check", checkId, "history"],
    queryFn: ({ signal }) => operationsApi.history.ofEntity("check-health", checkId, HISTORY_PAGE, signal),
  });
  return (
    <section aria-label="History">
      <h2>Why: its health's history</h2>
      {history.isPending ? <Loading what="the history" /> : null}
      <ErrorMessage error={history.error} title="Could not load the history" />
      {history.data && history.data.changes.length === 0 ? <div className="notice">Its health has not changed yet.</div> : null}
      {history.data && history.data.changes.length > 0 ? (
        <div className="card">
          <ChangeList changes={history.data.changes} label="Health changes" withSubject={false} />
        </div>
      ) : null}
    </section>
  );
}
