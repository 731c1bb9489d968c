// The overview: checks by health status and the ones needing attention first (unhealthy, then
// degraded), satellites online, automations enabled and the latest events — live: a
// check-health or satellite-connection change refreshes the "overview" queries (see live.ts).
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api, type CheckHealthStatus } from "../../api/client.ts";
import { ErrorMessage, PageHead } from "../../ui/components.tsx";
import { CheckStatusBadge } from "../checks/check-status.tsx";
import { targetOf } from "../checks/check-types.ts";
import { satellitesQuery } from "../satellites/satellites-page.tsx";
import { EventsFeed } from "../overview/events-feed.tsx";

/** Checks listed per status under "needs attention": the rest is a click away on the list. */
const ATTENTION_LIMIT = 10;
const COUNTED: readonly CheckHealthStatus[] = ["unhealthy", "degraded", "healthy", "unknown"];

export function OverviewPage() {
  const satellites = useQuery(satellitesQuery);
  const automations = useQuery({ queryKey: ["automations", "list"], queryFn: ({ signal }) => api.automations.list(signal) });
  const counts = useQuery({ queryKey: ["overview", "check-counts"], queryFn: ({ signal }) => api.checks.statusCounts(signal) });
  const unhealthy = useQuery({ queryKey: ["overview", "unhealthy"], queryFn: ({ signal }) => api.checks.withStatus("unhealthy", ATTENTION_LIMIT, signal) });
  const degraded = useQuery({ queryKey: ["overview", "degraded"], queryFn: ({ signal }) => api.checks.withStatus("degraded", ATTENTION_LIMIT, signal) });
  const sats = satellites.data?.satellites;
  const autos = automations.data?.automations;
  const attention = [...(unhealthy.data?.checks ?? []), ...(degraded.data?.checks ?? [])];
  return (
    <>
      <PageHead title="Overview" />
      <ErrorMessage error={counts.error ?? unhealthy.error ?? degraded.error ?? satellites.error ?? automations.error} />
      <div className="grid-2">
        {COUNTED.map((status) => (
          <Link key={status} to="/checks" className="stat" style={{ textDecoration: "none", color: "inherit" }} aria-label={`Checks ${status}`}>
            <div className="muted">
              <CheckStatusBadge status={status} />
            </div>
            <div className="value">{counts.data ? `${counts.data[status]} / ${counts.data.total}` : "…"}</div>
          </Link>
        ))}
        <Link to="/satellites" className="stat" style={{ textDecoration: "none", color: "inherit" }}>
          <div className="muted">Satellites online</div>
          <div className="value">{sats ? `${sats.filter((s) => s.status === "online").length} / ${sats.length}` : "…"}</div>
        </Link>
        <Link to="/automations" className="stat" style={{ textDecoration: "none", color: "inherit" }}>
          <div className="muted">Automations enabled</div>
          <div className="value">{autos ? `${autos.filter((a) => a.enabled).length} / ${autos.length}` : "…"}</div>
        </Link>
      </div>
      <h2>Needs attention</h2>
      <section aria-label="Needs attention">
        {unhealthy.data && degraded.data && attention.length === 0 ? <p className="muted">Every check is healthy or not yet observed.</p> : null}
        <ul className="plain-list">
          {attention.map((check) => (
            <li key={check.id}>
              {check.status ? <CheckStatusBadge status={check.status} /> : null}{" "}
              <Link to="/checks/$checkId" params={{ checkId: check.id }}>
                {check.name}
              </Link>{" "}
              <span className="muted">
                {targetOf(check)}
                {check.statusReason ? ` — ${check.statusReason}` : ""}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <EventsFeed />
    </>
  );
}
