// Satellites: every registered satellite with its presence, region, last heartbeat, version
// and the core holding it; registering one shows its token and start command once.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api, type CreatedSatellite } from "../../api/client.ts";
import { ErrorMessage, ListTable, PageHead } from "../../ui/components.tsx";
import { LastSeen } from "./last-seen.tsx";
import { NewToken } from "./new-token.tsx";
import { SatelliteStatus } from "./satellite-status.tsx";
import { usePermissions } from "../../permissions.ts";

export const satellitesQuery = { queryKey: ["satellites", "list"], queryFn: ({ signal }: { signal: AbortSignal }) => api.satellites.list(signal) };

export function SatellitesPage() {
  const satellites = useQuery(satellitesQuery);
  const [creating, setCreating] = useState(false);
  const { canEdit } = usePermissions();
  const [created, setCreated] = useState<CreatedSatellite | null>(null);
  const list = satellites.data?.satellites ?? [];
  const online = list.filter((satellite) => satellite.status === "online").length;

  return (
    <>
      <PageHead
        title="Satellites"
        sub={satellites.data ? `${list.length} registered · ${online} online` : "Agents that run checks next to their targets."}
        actions={
          canEdit ? (
            <button type="button" className="primary" onClick={() => setCreating(true)} disabled={creating}>
              New satellite
            </button>
          ) : null
        }
      />
      {created ? <NewToken satelliteId={created.id} name={created.name} token={created.token} onDone={() => setCreated(null)} /> : null}
      {creating ? (
        <CreateSatellite
          onCancel={() => setCreating(false)}
          onCreated={(satellite) => {
            setCreating(false);
            setCreated(satellite);
          }}
        />
      ) : null}
      <ListTable
        what="satellites"
        pending={satellites.isPending}
        error={satellites.error}
        errorTitle="Could not load the satellites"
        items={satellites.data ? list : undefined}
        empty="No satellites yet. Register one, then start it with the command shown."
        label="Satellites"
        columns={["Name", "Status", "Region", "Last seen", "Version", "Core"]}
        actions={false}
        row={(satellite) => (
          <tr key={satellite.id}>
            <td data-label="Name">
              <Link to="/satellites/$satelliteId" params={{ satelliteId: satellite.id }}>
                {satellite.name}
              </Link>
            </td>
            <td data-label="Status">
              <SatelliteStatus satellite={satellite} />
            </td>
            <td data-label="Region">{satellite.region}</td>
            <td data-label="Last seen">
              <LastSeen satellite={satellite} />
            </td>
            <td data-label="Version">{satellite.version ?? <span className="muted">—</span>}</td>
            <td data-label="Core" title={satellite.instanceId ? `Its connection is held by core ${satellite.instanceId}` : undefined}>
              {satellite.instanceId ? <code>{satellite.instanceId.slice(0, 8)}</code> : <span className="muted">—</span>}
            </td>
          </tr>
        )}
      />
    </>
  );
}

function CreateSatellite({ onCreated, onCancel }: { onCreated: (satellite: CreatedSatellite) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [region, setRegion] = useState("");
  const [tags, setTags] = useState("");
  const create = useMutation({
    mutationFn: () => api.satellites.create({ name, region, tags: splitTags(tags) }),
    onSuccess: async (satellite) => {
      await queryClient.invalidateQueries({ queryKey: ["satellites"] });
      onCreated(satellite);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-label="New satellite">
      <h2 style={{ marginTop: 0 }}>New satellite</h2>
      <div className="form-row">
        <label className="field">
          Name
          <input name="name" value={name} onChange={(event) => setName(event.target.value)} required autoFocus placeholder="fra-1" />
        </label>
        <label className="field">
          Region
          <input name="region" value={region} onChange={(event) => setRegion(event.target.value)} required placeholder="eu-central" />
        </label>
        <label className="field">
          Tags (comma separated, optional)
          <input name="tags" value={tags} onChange={(event) => setTags(event.target.value)} placeholder="dmz, ipv6" />
        </label>
      </div>
      <ErrorMessage error={create.error} title="Not created" />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** "a, b,,c " → ["a", "b", "c"]: the API refuses empty tags. */
export const splitTags = (text: string): string[] =>
  text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
