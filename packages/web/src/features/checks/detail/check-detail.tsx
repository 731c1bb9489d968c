// One check: its status with the reason, a tile per location, latency p50/p95 per location over
// a chosen range (from the rollups), availability, uptime and incidents over 24 h–90 d, the
// health's history ("why"), the certificate's expiry, recent failures
// with each assertion's expected and actual, and "run now from…" (the core or a satellite)
// showing the result. Follows the live feed: a health change re-reads these.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Check, type CheckHealth, type StoredResult } from "../../../api/client.ts";
import { ErrorMessage, Loading, PageHead, TimeAgo, useNow } from "../../../ui/components.tsx";
import { satellitesQuery } from "../../satellites/satellites-page.tsx";
import { isStale } from "../check-freshness.ts";
import { CheckStatusBadge, useLocationNames } from "../check-status.tsx";
import { confirmManagedEdit, ManagedByBadge, useManagedBy } from "../../config/managed-by.tsx";
import { invalidateChecks } from "../list/checks-query.ts";
import { CheckHistory } from "./check-history.tsx";
import { LatencyChart } from "./latency-chart.tsx";
import { ProbeOutcome } from "../probe-result.tsx";
import { cadenceOf, heartbeatOf, targetOf } from "../check-types.ts";
import { PingUrlPanel } from "../heartbeat-ping.tsx";
import { formatAvailability } from "../list/uptime-bar-model.ts";
import { usePermissions } from "../../../permissions.ts";

const RANGES = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000, "90d": 90 * 86_400_000 } as const;
type RangeName = keyof typeof RANGES;

export function CheckDetail({ checkId }: { checkId: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const check = useQuery({ queryKey: ["check", checkId, "definition"], queryFn: ({ signal }) => api.checks.get(checkId, signal) });
  const health = useQuery({ queryKey: ["check", checkId, "health"], queryFn: ({ signal }) => api.checks.health(checkId, signal) });
  const nameOf = useLocationNames();
  const managedBy = useManagedBy("Check", checkId);
  const { canEdit } = usePermissions();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => api.checks.setEnabled(checkId, enabled),
    onSuccess: () => invalidateChecks(queryClient),
  });
  const remove = useMutation({
    mutationFn: () => api.checks.remove(checkId),
    onSuccess: async () => {
      await invalidateChecks(queryClient);
      await navigate({ to: "/checks" });
    },
  });

  if (check.isPending) return <Loading what="the check" />;
  if (check.error) return <ErrorMessage error={check.error} title="Could not load the check" />;
  const c = check.data;
  const h = health.data;
  return (
    <>
      <Link to="/checks">← Checks</Link>
      <PageHead
        title={
          <>
            {c.name} {h ? <CheckStatusBadge status={h.status} /> : null} <ManagedByBadge bundle={managedBy} />
          </>
        }
        sub={
          <>
            {c.type} · <code>{targetOf(c)}</code> · {cadenceOf(c)}
            {c.enabled ? "" : " · paused"}
          </>
        }
        actions={
          canEdit ? (
            <>
              <Link
                to="/checks/$checkId/edit"
                params={{ checkId }}
                className="button"
                onClick={(event) => {
                  if (!confirmManagedEdit("check", managedBy)) event.preventDefault();
                }}
              >
                Edit
              </Link>
              <button type="button" onClick={() => toggle.mutate(!c.enabled)} disabled={toggle.isPending}>
                {c.enabled ? "Pause" : "Resume"}
              </button>
              <button
                type="button"
                className="danger"
                disabled={remove.isPending}
                onClick={() => {
                  const managed = managedBy === undefined ? "" : ` It is managed by the config bundle "${managedBy}": its next apply creates it again.`;
                  if (window.confirm(`Delete the check ${c.name}? Its results stay until retention drops them.${managed}`)) remove.mutate();
                }}
              >
                Delete
              </button>
            </>
          ) : null
        }
      />
      <ErrorMessage error={toggle.error ?? remove.error} title="Not changed" />
      <ErrorMessage error={health.error} title="Could not load the health" />
      {h ? <HealthSummary health={h} check={c} nameOf={nameOf} /> : null}
      {heartbeatOf(c) ? <PingUrlPanel checkId={checkId} canEdit={canEdit} /> : canEdit ? <RunNow check={c} nameOf={nameOf} /> : null}
      <Latency checkId={checkId} nameOf={nameOf} />
      <CheckHistory checkId={checkId} createdAt={c.createdAt} nameOf={nameOf} />
      <Certificate checkId={checkId} />
      <RecentFailures checkId={checkId} nameOf={nameOf} />
    </>
  );
}

function HealthSummary({ health, check, nameOf }: { health: CheckHealth; check: Check; nameOf: (location: string) => string }) {
  const now = useNow();
  const locations = Object.entries(health.locations).sort(([a], [b]) => nameOf(a).localeCompare(nameOf(b)));
  const policy =
    typeof check.health.policy === "string"
      ? check.health.policy
      : "quorum" in check.health.policy
        ? `quorum ${check.health.policy.quorum}`
        : `${check.health.policy.percent} %`;
  return (
    <>
      <div className="card" aria-label="Health">
        <p style={{ margin: 0 }}>
          <strong>{health.status}</strong> since <TimeAgo at={health.since} />: {health.reason}
        </p>
        <p className="muted" style={{ margin: "6px 0 0", fontSize: 13 }}>
          Policy <code>{policy}</code> over the observable locations · unhealthy after {plural(check.health.failuresToUnhealthy, "failure")}, healthy again
          after {plural(check.health.successesToRecover, "success", "successes")}
          {health.flapping ? " · flapping" : ""}
          {health.maintenance ? " · in maintenance" : ""}
        </p>
      </div>
      {locations.length > 0 ? (
        <div className="tiles" role="list" aria-label="Locations">
          {locations.map(([location, state]) => {
            const stale = isStale(state.lastResultAt, check, now);
            return (
              <div className="tile" role="listitem" key={location}>
                <span className="tile-name">{nameOf(location)}</span>
                <CheckStatusBadge status={state.status} />
                <span className="muted" style={{ fontSize: 13 }}>
                  since <TimeAgo at={state.since} />
                </span>
                <span className={stale ? "stale" : "muted"} style={{ fontSize: 13 }}>
                  last result <TimeAgo at={state.lastResultAt} />
                  {stale ? " · stale" : ""}
                </span>
              </div>
            );
          })}
        </div>
      ) : null}
    </>
  );
}

function RunNow({ check, nameOf }: { check: Check; nameOf: (location: string) => string }) {
  const queryClient = useQueryClient();
  const satellites = useQuery(satellitesQuery);
  const [location, setLocation] = useState("core");
  const run = useMutation({
    mutationFn: () => api.checks.run(check.id, location),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["check", check.id] }),
  });
  const online = (satellites.data?.satellites ?? []).filter((satellite) => satellite.status === "online");
  return (
    <section className="card" aria-label="Run now">
      <div className="form-row">
        <label className="field" style={{ flex: "0 1 260px" }}>
          Run now from
          <select value={location} onChange={(event) => setLocation(event.target.value)}>
            <option value="core">core</option>
            {online.map((satellite) => (
              <option key={satellite.id} value={satellite.id}>
                {satellite.name} ({satellite.region})
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="primary" onClick={() => run.mutate()} disabled={run.isPending}>
          {run.isPending ? "Running…" : "Run now"}
        </button>
      </div>
      <ErrorMessage error={run.error} title="Not run" />
      {run.data ? (
        <div style={{ marginTop: 12 }}>
          <ProbeOutcome {...run.data.result} where={nameOf(run.data.result.location ?? location)} />
        </div>
      ) : null}
    </section>
  );
}

function Latency({ checkId, nameOf }: { checkId: string; nameOf: (location: string) => string }) {
  const [range, setRange] = useState<RangeName>("24h");
  const stats = useQuery({
    queryKey: ["check", checkId, "stats", range],
    queryFn: ({ signal }) => {
      const to = Date.now();
      return api.checks.stats(checkId, { from: new Date(to - RANGES[range]).toISOString(), to: new Date(to).toISOString() }, signal);
    },
  });
  return (
    <section aria-label="Latency">
      <h2>Latency and availability</h2>
      <div className="tabs" role="tablist" aria-label="Range">
        {(Object.keys(RANGES) as RangeName[]).map((name) => (
          <a
            key={name}
            href={`#${name}`}
            role="tab"
            aria-selected={range === name}
            data-status={range === name ? "active" : undefined}
            onClick={(event) => (event.preventDefault(), setRange(name))}
          >
            {name}
          </a>
        ))}
      </div>
      {stats.isPending ? <Loading what="stats" /> : null}
      <ErrorMessage error={stats.error} title="Could not load the stats" />
      {stats.data ? (
        <div className="card">
          <LatencyChart stats={stats.data} nameOf={nameOf} />
          {stats.data.locations.length > 0 ? (
            <table className="list" aria-label="By location" style={{ marginTop: 12 }}>
              <thead>
                <tr>
                  <th scope="col">Location</th>
                  <th scope="col">Availability</th>
                  <th scope="col">p50</th>
                  <th scope="col">p95</th>
                  <th scope="col">p99</th>
                  <th scope="col">Runs</th>
                </tr>
              </thead>
              <tbody>
                {stats.data.locations.map((location) => (
                  <tr key={location.location}>
                    <td data-label="Location">{nameOf(location.location)}</td>
                    <td data-label="Availability">{formatAvailability(location.availability)}</td>
                    <td data-label="p50">{ms(location.latency.p50)}</td>
                    <td data-label="p95">{ms(location.latency.p95)}</td>
                    <td data-label="p99">{ms(location.latency.p99)}</td>
                    <td data-label="Runs">
                      <span>
                        {location.counts.total}
                        {location.counts.down ? <span className="muted"> · {location.counts.down} down</span> : null}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
const ms = (value: number | null) => (value === null ? "—" : `${Math.round(value)} ms`);

/** The newest result's certificate, when the check sees one (https, TLS-wrapped TCP, tls). */
function Certificate({ checkId }: { checkId: string }) {
  const latest = useQuery({ queryKey: ["check", checkId, "latest"], queryFn: ({ signal }) => api.checks.results(checkId, { limit: 1 }, signal) });
  const cert = latest.data?.results[0]?.detail.cert as { expiresAt: string; daysRemaining: number; issuer?: string } | undefined;
  if (!cert) return null;
  const tone = cert.daysRemaining < 7 ? "bad" : cert.daysRemaining < 14 ? "warn" : "ok";
  return (
    <section aria-label="Certificate">
      <h2>Certificate</h2>
      <div className="card">
        <span className={`badge ${tone}`}>{cert.daysRemaining} days left</span> expires {new Date(cert.expiresAt).toLocaleString()}
        {cert.issuer ? <span className="muted"> · issued by {cert.issuer}</span> : null}
      </div>
    </section>
  );
}

function RecentFailures({ checkId, nameOf }: { checkId: string; nameOf: (location: string) => string }) {
  const failures = useQuery({
    queryKey: ["check", checkId, "failures"],
    queryFn: ({ signal }) => api.checks.results(checkId, { status: "down,degraded,error", limit: 20 }, signal),
  });
  return (
    <section aria-label="Recent failures">
      <h2>Recent failures</h2>
      {failures.isPending ? <Loading what="failures" /> : null}
      <ErrorMessage error={failures.error} title="Could not load the failures" />
      {failures.data && failures.data.results.length === 0 ? <div className="notice">No failed run is stored.</div> : null}
      {failures.data?.results.map((result: StoredResult) => (
        <div className="card" key={result.resultId}>
          <ProbeOutcome
            status={result.status}
            durationMs={result.durationMs}
            detail={result.detail}
            where={nameOf(result.location)}
            startedAt={result.startedAt}
          />
        </div>
      ))}
    </section>
  );
}
