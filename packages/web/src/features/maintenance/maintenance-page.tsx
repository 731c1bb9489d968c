// Maintenance windows: when which checks (by label, or by id) are in planned work — their
// health carries "in maintenance" and their status triggers are skipped, not fired. Lists each
// with whether it is on now or when it next is; editors create (once or weekly), edit and delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type MaintenanceWindow, type MaintenanceWindowInput, operationsApi } from "../../api/operations-client.ts";
import { Badge, ErrorMessage, ListTable, PageHead } from "../../ui/components.tsx";
import { formatExact } from "../../ui/time.ts";
import { usePermissions } from "../../permissions.ts";
import { confirmManagedEdit, ManagedByBadge, ManagedWarning, useManagedByOfKind } from "../config/managed-by.tsx";

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

/** The form's fields for a stored window (local date-times in this browser's zone). */
export function windowForm(entry: MaintenanceWindow): WindowFormFields {
  return {
    name: entry.name,
    labels: Object.entries(entry.checks.labels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(", "),
    start: localInput(Date.parse(entry.start)),
    end: localInput(Date.parse(entry.end)),
    weekly: entry.recurrence !== undefined,
  };
}

/**
 * The edited window as PUT takes it: what the form holds over what the form does not show (the
 * description, the checks named by id, a weekly recurrence's zone and days) and the revision read.
 */
export function editedWindow(entry: MaintenanceWindow, form: WindowFormFields, timeZone: string): MaintenanceWindowInput & { revision: number } {
  const input = windowInput(form, timeZone);
  const labels = input.checks.labels ?? {};
  const checks = { ...(entry.checks.ids?.length ? { ids: entry.checks.ids } : {}), ...(Object.keys(labels).length > 0 ? { labels } : {}) };
  return {
    ...input,
    ...(entry.description !== undefined ? { description: entry.description } : {}),
    checks,
    ...(form.weekly ? { recurrence: entry.recurrence ?? { frequency: "weekly" as const, timeZone } } : {}),
    revision: entry.revision,
  };
}

type WindowFormFields = Parameters<typeof windowInput>[0];

export function MaintenancePage() {
  const queryClient = useQueryClient();
  const { canEdit } = usePermissions();
  // The window being edited, or "new"; one form at a time.
  const [editing, setEditing] = useState<MaintenanceWindow | "new" | null>(null);
  const windows = useQuery({ queryKey: ["maintenance-windows"], queryFn: ({ signal }) => operationsApi.maintenanceWindows.list(signal) });
  const managedBy = useManagedByOfKind("MaintenanceWindow");
  const remove = useMutation({
    mutationFn: (windowId: string) => operationsApi.maintenanceWindows.remove(windowId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["maintenance-windows"] }),
  });
  return (
    <>
      <PageHead
        title="Maintenance"
        sub="Planned work: the checks it covers show “in maintenance” and page no one."
        actions={
          canEdit ? (
            <button type="button" className="primary" onClick={() => setEditing("new")} disabled={editing !== null}>
              New window
            </button>
          ) : null
        }
      />
      {editing !== null ? (
        <WindowForm
          key={editing === "new" ? "new" : editing.id}
          entry={editing === "new" ? undefined : editing}
          managedBy={editing === "new" ? undefined : managedBy.get(editing.id)}
          onDone={() => setEditing(null)}
        />
      ) : null}
      <ListTable
        what="maintenance windows"
        pending={windows.isPending}
        error={windows.error ?? remove.error}
        errorTitle="Maintenance windows"
        items={windows.data?.windows}
        empty="No maintenance windows."
        label="Maintenance windows"
        columns={["Name", "Covers", "When"]}
        row={(entry) => (
          <tr key={entry.id}>
            <td data-label="Name">
              {entry.name} {entry.active ? <Badge tone="warn">on now</Badge> : null} <ManagedByBadge bundle={managedBy.get(entry.id)} />
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
                <>
                  <button
                    type="button"
                    onClick={() => confirmManagedEdit("maintenance window", managedBy.get(entry.id)) && setEditing(entry)}
                    disabled={editing !== null}
                    aria-label={`Edit ${entry.name}`}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      if (window.confirm(`Delete the maintenance window ${entry.name}?`)) remove.mutate(entry.id);
                    }}
                  >
                    Delete
                  </button>
                </>
              ) : null}
            </td>
          </tr>
        )}
      />
    </>
  );
}

/** A local date-time input's value for an instant. */
const localInput = (ms: number) => {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
};

/** Creates a window, or edits `entry`. */
function WindowForm({ entry, managedBy, onDone }: { entry?: MaintenanceWindow; managedBy: string | undefined; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<WindowFormFields>(() => {
    if (entry) return windowForm(entry);
    const hour = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    return { name: "", labels: "", start: localInput(hour), end: localInput(hour + 3_600_000), weekly: false };
  });
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const save = useMutation({
    mutationFn: () =>
      entry
        ? operationsApi.maintenanceWindows.replace(entry.id, editedWindow(entry, form, timeZone))
        : operationsApi.maintenanceWindows.create(windowInput(form, timeZone)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["maintenance-windows"] });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const set = (patch: Partial<WindowFormFields>) => setForm({ ...form, ...patch });
  const title = entry ? `Edit ${entry.name}` : "New maintenance window";
  // A window of named checks may have no labels at all.
  const labelsRequired = !entry?.checks.ids?.length;
  return (
    <form className="card" onSubmit={submit} aria-label={entry ? "Edit maintenance window" : "New maintenance window"}>
      <h2 style={{ marginTop: 0 }}>{title}</h2>
      <ManagedWarning what="maintenance window" bundle={managedBy} />
      <div className="form-row">
        <label className="field">
          Name
          <input value={form.name} onChange={(event) => set({ name: event.target.value })} required placeholder="database upgrade" />
        </label>
        <label className="field">
          Checks with labels
          <input value={form.labels} onChange={(event) => set({ labels: event.target.value })} required={labelsRequired} placeholder="env=prod, team=db" />
        </label>
      </div>
      {entry?.checks.ids?.length ? <p className="muted">Also covers {windowScope({ checks: { ids: entry.checks.ids } })} (kept as they are).</p> : null}
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
          <input type="checkbox" checked={form.weekly} onChange={(event) => set({ weekly: event.target.checked })} /> Every week (
          {entry?.recurrence?.timeZone ?? timeZone})
        </label>
      </div>
      <ErrorMessage error={save.error} title={entry ? "Not saved" : "Not created"} />
      <div className="actions" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={save.isPending}>
          {entry ? "Save" : "Create"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
