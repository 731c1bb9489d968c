// What a satellite does and did, on its detail screen: the checks it runs (those with a verdict
// from it, with their health) and its connection history (the satellite-connection entity's
// changes: each connect, disconnect and lost heartbeat, with who or what caused it). Both are
// keyed under ["satellites"], so the live feed refreshes them with every change of a satellite.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { operationsApi } from "../../api/operations-client.ts";
import { ErrorMessage, ListTable, Loading } from "../../ui/components.tsx";
import { CheckStatusBadge } from "../checks/check-status.tsx";
import { targetOf } from "../checks/check-types.ts";
import { ChangeList } from "../history/change-list.tsx";

const CHECKS_SHOWN = 100;
const HISTORY_PAGE = 20;

export function SatelliteChecks({ satelliteId }: { satelliteId: string }) {
  const checks = useQuery({
    queryKey: ["satellites", "one", satelliteId, "checks"],
    queryFn: ({ signal }) => api.checks.list({ location: satelliteId, limit: CHECKS_SHOWN }, signal),
  });
  const more = checks.data?.nextCursor ? ` (the first ${CHECKS_SHOWN})` : "";
  return (
    <section aria-label="Checks it runs">
      <h2>Checks it runs{more}</h2>
      <ListTable
        what="its checks"
        pending={checks.isPending}
        error={checks.error}
        errorTitle="Could not load its checks"
        items={checks.data?.checks}
        empty="No check has a result from this satellite yet: a check runs here once its runOn selects this satellite's region or tags and the satellite is online."
        label="Checks it runs"
        columns={["Status", "Name", "Type", "Target"]}
        actions={false}
        row={(check) => (
          <tr key={check.id}>
            <td>{check.status ? <CheckStatusBadge status={check.status} /> : <span className="muted">—</span>}</td>
            <td>
              <Link to="/checks/$checkId" params={{ checkId: check.id }}>
                {check.name}
              </Link>
            </td>
            <td>{check.type}</td>
            <td className="muted">{targetOf(check)}</td>
          </tr>
        )}
      />
      {checks.data?.nextCursor ? (
        <p>
          <Link to="/checks" search={{ location: satelliteId }}>
            All checks it runs →
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
