// What a satellite does and did, on its detail screen: the checks it runs (its assignments: every
// enabled check whose runOn selects it, or skipped with why, with the health each has there) and
// its connection history (the satellite-connection entity's
// changes: each connect, disconnect and lost heartbeat, with who or what caused it). Both are
// keyed under ["satellites"], so the live feed refreshes them with every change of a satellite.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { operationsApi } from "../../api/operations-client.ts";
import { ErrorMessage, ListTable, Loading } from "../../ui/components.tsx";
import { CheckStatusBadge } from "../checks/check-status.tsx";
import { ChangeList } from "../history/change-list.tsx";

/** Health is shown for this many of its checks (one list page); past them, the list filtered to this satellite has it. */
const HEALTH_SHOWN = 100;
const HISTORY_PAGE = 20;

export function SatelliteChecks({ satelliteId }: { satelliteId: string }) {
  const checks = useQuery({
    queryKey: ["satellites", "one", satelliteId, "checks"],
    queryFn: ({ signal }) => api.checks.onSatellite(satelliteId, signal),
  });
  // The health of the checks observed from here: the list filtered to this location.
  const observed = useQuery({
    queryKey: ["satellites", "one", satelliteId, "observed"],
    queryFn: ({ signal }) => api.checks.list({ location: satelliteId, limit: HEALTH_SHOWN }, signal),
  });
  const healthOf = new Map((observed.data?.checks ?? []).map((check) => [check.id, check.status]));
  return (
    <section aria-label="Checks it runs">
      <h2>Checks it runs</h2>
      <ListTable
        what="its checks"
        pending={checks.isPending}
        error={checks.error ?? observed.error}
        errorTitle="Could not load its checks"
        items={checks.data?.checks}
        empty="No enabled check selects this satellite: a check runs here once its runOn names this satellite, its region or its tags."
        label="Checks it runs"
        columns={["Name", "Type", "Assignment", "Health"]}
        actions={false}
        row={(check) => {
          const health = healthOf.get(check.id);
          return (
            <tr key={check.id}>
              <td>
                <Link to="/checks/$checkId" params={{ checkId: check.id }}>
                  {check.name}
                </Link>
              </td>
              <td>{check.type}</td>
              <td>{check.status === "assigned" ? "assigned" : <span title={check.message}>skipped: {check.reason?.replace(/_/g, " ")}</span>}</td>
              <td>{health ? <CheckStatusBadge status={health} /> : <span className="muted">—</span>}</td>
            </tr>
          );
        }}
      />
      {observed.data?.nextCursor ? (
        <p>
          <Link to="/checks" search={{ location: satelliteId }}>
            The health of all checks observed from here →
          </Link>
        </p>
      ) : null}
    </section>
  );
}

export function ConnectionHistory({ satelliteId }: { satelliteId: string }) {
  const history = useQuery({
    queryKey: ["satellites", "one", satelliteId, "history"],
    queryFn: ({ signal }) => operationsApi.history.ofEntity("satellite-connection", satelliteId, HISTORY_PAGE, signal),
  });
  return (
    <section aria-label="Connection history">
      <h2>Connection history</h2>
      {history.isPending ? <Loading what="the connection history" /> : null}
      <ErrorMessage error={history.error} title="Could not load the connection history" />
      {history.data && history.data.changes.length === 0 ? <div className="notice">No connection recorded yet.</div> : null}
      {history.data && history.data.changes.length > 0 ? (
        <div className="card">
          <ChangeList changes={history.data.changes} label="Connection changes" withSubject={false} />
        </div>
      ) : null}
    </section>
  );
}
