// Maintenance windows: when which checks (by label, or by id) are in planned work — their
// health carries "in maintenance" and their status triggers are skipped, not fired. Lists each
// with whether it is on now or when it next is; editors create (once or weekly) and delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type MaintenanceWindow, type MaintenanceWindowInput, operationsApi } from "../../api/operations-client.ts";
import { Badge, ErrorMessage, ListHead, Loading, PageHead } from "../../ui/components.tsx";
import { formatExact } from "../../ui/time.ts";
import { usePermissions } from "../../permissions.ts";

/** "env=prod, team=web" → { env: "prod", team: "web" }; pairs without "=" are left to the API to refuse. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const trimmed = pair.trim();
    if (trimmed === "") continue;
    const split = trimmed.indexOf("=");
    labels[split < 0 ? trimmed : trimmed.slice(0, split).trim()] = split < 0 ? "" : trimmed.slice(split + 1).trim();
  }
  return labels;
}

/** What the window covers, as people read it. */
export function windowScope(entry: Pick<MaintenanceWindow, "checks">): string {
  const parts: string[] = [];
  const labels = Object.entries(entry.checks.labels ?? {});
  if (labels.length > 0) parts.push(`checks labelled ${labels.map(([key, value]) => `${key}=${value}`).join(", ")}`);
  const ids = entry.checks.ids?.length ?? 0;
  if (ids > 0) parts.push(`${ids} named ${ids === 1 ? "check" : "checks"}`);
  return parts.join(" and ");
}

/** The form's local date-times (no zone) as the API's instants, and a weekly recurrence in this browser's zone. */
export function windowInput(form: { name: string; labels: string; start: string; end: string; weekly: boolean }, timeZone: string): MaintenanceWindowInput {
  return {
    name: form.name,
    checks: { labels: parseLabels(form.labels) },
    start: new Date(form.start).toISOString(),
    end: new Date(form.end).toISOString(),
    ...(form.weekly ? { recurrence: { frequency: "weekly" as const, timeZone } } : {}),
  };
}

export function MaintenancePage() {
  const queryClient = useQueryClient();
  const { canEdit } = usePermissions();
  const [creating, setCreating] = useState(false);
  const windows = useQuery({ queryKey: ["maintenance-windows"], queryFn: ({ signal }) => operationsApi.maintenanceWindows.list(signal) });
  const remove = useMutation({
    mutationFn: (windowId: string) => operationsApi.maintenanceWindows.remove(windowId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["maintenance-windows"] }),
  });
  const list = windows.data?.windows ?? [];
  return (
    <>
      <PageHead
        title="Maintenance"
        sub="Planned work: the checks it covers show “in maintenance” and page no one."
        actions={
          canEdit ? (
            <button type="button" className="primary" onClick={() => setCreating(true)} disabled={creating}>
              New window
            </button>
          ) : null
        }
      />
      {creating ? <CreateWindow onDone={() => setCreating(false)} /> : null}
      {windows.isPending ? <Loading what="maintenance windows" /> : null}
      <ErrorMessage error={windows.error ?? remove.error} title="Maintenance windows" />
      {windows.data && list.length === 0 ? <div className="notice">No maintenance windows.</div> : null}
      {list.length > 0 ? (
        <table className="list" aria-label="Maintenance windows">
          <ListHead columns={["Name", "Covers", "When"]} />
          <tbody>
            {list.map((entry) => (
              <tr key={entry.id}>
                <td data-label="Name">
                  {entry.name} {entry.active ? <Badge tone="warn">on now</Badge> : null}
                </td>
                <td data-label="Covers">{windowScope(entry)}</td>
                <td data-label="When">
                  {entry.occurrence ? (
                    <>
                      {entry.active ? "until" : "next"} {formatExact(entry.active ? entry.occurrence.end : entry.occurrence.start)}
                    </>
                  ) : (
                    <span className="muted">over</span>
                  )}
                  {entry.recurrence ? <span className="muted"> · weekly ({entry.recurrence.timeZone})</span> : null}
                </td>
                <td data-label="" className="row-actions">
                  {canEdit ? (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete the maintenance window ${entry.name}?`)) remove.mutate(entry.id);
                      }}
                    >
                      Delete
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

/** A local date-time input's value for an instant. */
const localInput = (ms: number) => {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
};

function CreateWindow({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState(() => {
    const hour = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    return { name: "", labels: "", start: localInput(hour), end: localInput(hour + 3_600_000), weekly: false };
  });
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const create = useMutation({
    mutationFn: () => operationsApi.maintenanceWindows.create(windowInput(form, timeZone)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["maintenance-windows"] });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const set = (patch: Partial<typeof form>) => setForm({ ...form, ...patch });
  return (
    <form className="card" onSubmit={submit} aria-label="New maintenance window">
      <h2 style={{ marginTop: 0 }}>New maintenance window</h2>
      <div className="form-row">
        <label className="field">
          Name
          <input value={form.name} onChange={(event) => set({ name: event.target.value })} required placeholder="database upgrade" />
        </label>
        <label className="field">
          Checks with labels
          <input value={form.labels} onChange={(event) => set({ labels: event.target.value })} required placeholder="env=prod, team=db" />
        </label>
      </div>
      <div className="form-row">
        <label className="field">
          Starts
          <input type="datetime-local" value={form.start} onChange={(event) => set({ start: event.target.value })} required />
        </label>
        <label className="field">
          Ends
          <input type="datetime-local" value={form.end} onChange={(event) => set({ end: event.target.value })} required />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={form.weekly} onChange={(event) => set({ weekly: event.target.checked })} /> Every week ({timeZone})
        </label>
      </div>
      <ErrorMessage error={create.error} title="Not created" />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
