// The overview, as far as today's API goes: satellites online and automations enabled. Check
// health and the latest events join it with the checks API and the events stream.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { ErrorMessage, PageHead } from "../../ui/components.tsx";
import { satellitesQuery } from "../satellites/satellites-page.tsx";

export function OverviewPage() {
  const satellites = useQuery(satellitesQuery);
  const automations = useQuery({ queryKey: ["automations", "list"], queryFn: ({ signal }) => api.automations.list(signal) });
  const sats = satellites.data?.satellites;
  const autos = automations.data?.automations;
  return (
    <>
      <PageHead title="Overview" />
      <ErrorMessage error={satellites.error ?? automations.error} />
      <div className="grid-2">
        <Link to="/satellites" className="stat" style={{ textDecoration: "none", color: "inherit" }}>
          <div className="muted">Satellites online</div>
          <div className="value">{sats ? `${sats.filter((s) => s.status === "online").length} / ${sats.length}` : "…"}</div>
        </Link>
        <Link to="/automations" className="stat" style={{ textDecoration: "none", color: "inherit" }}>
          <div className="muted">Automations enabled</div>
          <div className="value">{autos ? `${autos.filter((a) => a.enabled).length} / ${autos.length}` : "…"}</div>
        </Link>
      </div>
      <h2>Checks and latest events</h2>
      <div className="notice">Not available yet: check health needs the checks API, and the latest events need the events stream (issue #13).</div>
    </>
  );
}
