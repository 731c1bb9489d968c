// One satellite: what the core knows of it, rotating its token (the new one shown once, the
// old connection closed) and deleting it; the checks it runs and its connection history
// (satellite-activity.tsx).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { ErrorMessage, Loading, PageHead, TimeAgo } from "../../ui/components.tsx";
import { formatExact } from "../../ui/time.ts";
import { ManagedByBadge, ManagedWarning, useManagedBy } from "../config/managed-by.tsx";
import { LastSeen } from "./last-seen.tsx";
import { NewToken } from "./new-token.tsx";
import { SatelliteStatus } from "./satellite-status.tsx";
import { ConnectionHistory, SatelliteChecks } from "./satellite-activity.tsx";
import { usePermissions } from "../../permissions.ts";

export function SatelliteDetail({ satelliteId }: { satelliteId: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const satellite = useQuery({ queryKey: ["satellites", "one", satelliteId], queryFn: ({ signal }) => api.satellites.get(satelliteId, signal) });
  const [token, setToken] = useState<string | null>(null);
  const { canEdit } = usePermissions();
  const rotate = useMutation({
    mutationFn: () => api.satellites.rotateToken(satelliteId),
    onSuccess: async (rotated) => {
      setToken(rotated.token);
      await queryClient.invalidateQueries({ queryKey: ["satellites"] });
    },
  });
  const remove = useMutation({
    mutationFn: () => api.satellites.remove(satelliteId),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ["satellites", "one", satelliteId] });
      await queryClient.invalidateQueries({ queryKey: ["satellites"] });
      await navigate({ to: "/satellites" });
    },
  });

  const managedBy = useManagedBy("Satellite", satelliteId);
  if (satellite.isPending) return <Loading what="the satellite" />;
  if (satellite.error) {
    return (
      <>
        <p>
          <Link to="/satellites">← Satellites</Link>
        </p>
        <ErrorMessage error={satellite.error} title="Could not load the satellite" />
      </>
    );
  }
  const s = satellite.data;
  const confirmRotate = () => {
    if (window.confirm(`Rotate the token of ${s.name}? Its current connection is closed and the old token stops working at once.`)) rotate.mutate();
  };
  const confirmDelete = () => {
    if (window.confirm(`Delete ${s.name}? Its connection is closed and its token stops working.`)) remove.mutate();
  };

  return (
    <>
      <p>
        <Link to="/satellites">← Satellites</Link>
      </p>
      <PageHead
        title={
          <>
            {s.name} <SatelliteStatus satellite={s} /> <ManagedByBadge bundle={managedBy} />
          </>
        }
        sub={`Region ${s.region}`}
        actions={
          canEdit ? (
            <>
              <button type="button" onClick={confirmRotate} disabled={rotate.isPending}>
                Rotate token
              </button>
              <button type="button" className="danger" onClick={confirmDelete} disabled={remove.isPending}>
                Delete
              </button>
            </>
          ) : null
        }
      />
      <ManagedWarning what="satellite" bundle={managedBy} />
      {token ? <NewToken satelliteId={s.id} name={s.name} token={token} onDone={() => setToken(null)} /> : null}
      <ErrorMessage error={rotate.error} title="Token not rotated" />
      <ErrorMessage error={remove.error} title="Not deleted" />
      <div className="card">
        <dl className="facts">
          <dt>Id</dt>
          <dd>
            <code>{s.id}</code>
          </dd>
          <dt>Last seen</dt>
          <dd>
            <LastSeen satellite={s} />
          </dd>
          <dt>Last connection event</dt>
          <dd>
            {s.lastEvent ?? "none yet"}
            {s.lastEvent !== null && s.lastEventAt !== null ? (
              <>
                {" · "}
                <TimeAgo at={s.lastEventAt} />
              </>
            ) : null}
          </dd>
          <dt>Version</dt>
          <dd>{s.version ?? "—"}</dd>
          <dt>Capabilities</dt>
          <dd>{s.capabilities.length > 0 ? s.capabilities.join(", ") : "—"}</dd>
          <dt>Tags</dt>
          <dd>{s.tags.length > 0 ? s.tags.join(", ") : "—"}</dd>
          <dt>Offline after</dt>
          <dd>
            {Math.round(s.effectiveOfflineThresholdMs / 1000)} s without a heartbeat{s.offlineThresholdMs === null ? " (default)" : ""}
          </dd>
          <dt>Held by core</dt>
          <dd>{s.instanceId ? <code>{s.instanceId}</code> : "—"}</dd>
          <dt>Registered</dt>
          <dd>{formatExact(s.createdAt)}</dd>
        </dl>
      </div>
      <SatelliteChecks satelliteId={s.id} />
      <ConnectionHistory satelliteId={s.id} />
    </>
  );
}
