// One automation: enable or disable it, start a run by hand, delete it; its runs (active ones
// cancellable) and the triggers it skipped with their reasons; its definition in the editor.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { ACTIVE_RUN_STATUSES, api, type Run } from "../../api/client.ts";
import { Badge, ErrorMessage, ListHead, Loading, PageHead, TimeAgo } from "../../ui/components.tsx";
import { formatDuration } from "../../ui/time.ts";
import { ManagedByBadge, ManagedWarning, useManagedBy } from "../config/managed-by.tsx";
import { AutomationEditor } from "./automation-editor.tsx";
import { RunStatus } from "./run-status.tsx";
import { usePermissions } from "../../permissions.ts";

const TABS = ["runs", "skips", "definition"] as const;
type Tab = (typeof TABS)[number];

export function AutomationDetail({ automationId }: { automationId: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [tab, setTab] = useState<Tab>("runs");
  const { canEdit } = usePermissions();
  const automation = useQuery({ queryKey: ["automations", "one", automationId], queryFn: ({ signal }) => api.automations.get(automationId, signal) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["automations"] });
  const toggle = useMutation({ mutationFn: (enabled: boolean) => api.automations.setEnabled(automationId, enabled), onSuccess: refresh });
  const runNow = useMutation({
    mutationFn: () => api.automations.startRun(automationId),
    onSuccess: async ({ run }) => {
      await refresh();
      await navigate({ to: "/automations/$automationId/runs/$runId", params: { automationId, runId: run.id } });
    },
  });
  const remove = useMutation({
    mutationFn: () => api.automations.remove(automationId),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ["automations", "one", automationId] });
      await refresh();
      await navigate({ to: "/automations" });
    },
  });

  const managedBy = useManagedBy("Automation", automationId);
  if (automation.isPending) return <Loading what="the automation" />;
  if (automation.error) {
    return (
      <>
        <p>
          <Link to="/automations">← Automations</Link>
        </p>
        <ErrorMessage error={automation.error} title="Could not load the automation" />
      </>
    );
  }
  const a = automation.data;
  const confirmDelete = () => {
    if (window.confirm(`Delete the automation "${a.name}" with its runs?`)) remove.mutate();
  };

  return (
    <>
      <p>
        <Link to="/automations">← Automations</Link>
      </p>
      <PageHead
        title={
          <>
            {a.name} {a.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="idle">disabled</Badge>} <ManagedByBadge bundle={managedBy} />
          </>
        }
        sub={
          <>
            On <code>{a.triggers.map((trigger) => trigger.event).join(", ")}</code> · mode {a.mode} · version {a.version}
          </>
        }
        actions={
          canEdit ? (
            <>
              <button
                type="button"
                className="primary"
                onClick={() => runNow.mutate()}
                disabled={runNow.isPending}
                title="Runs the actions now; conditions are not evaluated"
              >
                Run now
              </button>
              <button type="button" onClick={() => toggle.mutate(!a.enabled)} disabled={toggle.isPending}>
                {a.enabled ? "Disable" : "Enable"}
              </button>
              <button type="button" className="danger" onClick={confirmDelete} disabled={remove.isPending}>
                Delete
              </button>
            </>
          ) : null
        }
      />
      <ErrorMessage error={runNow.error} title="Run not started" />
      <ErrorMessage error={toggle.error} title="Not changed" />
      <ErrorMessage error={remove.error} title="Not deleted" />
      {a.description ? <p>{a.description}</p> : null}
      <div className="tabs" role="tablist" aria-label="Automation">
        {TABS.map((name) => (
          <a
            key={name}
            href={`#${name}`}
            role="tab"
            aria-selected={tab === name}
            data-status={tab === name ? "active" : undefined}
            onClick={(event) => (event.preventDefault(), setTab(name))}
          >
            {name[0]!.toUpperCase() + name.slice(1)}
          </a>
        ))}
      </div>
      <div role="tabpanel">
        {tab === "runs" ? <RunList automationId={automationId} /> : null}
        {tab === "skips" ? <SkipList automationId={automationId} /> : null}
        {tab === "definition" ? <ManagedWarning what="automation" bundle={managedBy} /> : null}
        {tab === "definition" ? <DefinitionTab automationId={automationId} version={a.version} readOnly={!canEdit} /> : null}
      </div>
    </>
  );
}

function RunList({ automationId }: { automationId: string }) {
  const queryClient = useQueryClient();
  const { canEdit } = usePermissions();
  const runs = useQuery({ queryKey: ["automations", "runs", automationId], queryFn: ({ signal }) => api.automations.runs(automationId, signal) });
  const cancel = useMutation({
    mutationFn: (run: Run) => api.automations.cancelRun(automationId, run.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["automations", "runs", automationId] }),
  });
  if (runs.isPending) return <Loading what="runs" />;
  if (runs.error) return <ErrorMessage error={runs.error} title="Could not load the runs" />;
  if (runs.data.runs.length === 0) return <div className="notice">No runs yet. A trigger firing, or Run now, starts one.</div>;
  return (
    <>
      <ErrorMessage error={cancel.error} title="Not cancelled" />
      <table className="list">
        <ListHead columns={["Run", "Status", "Trigger", "Started", "Took"]} />
        <tbody>
          {runs.data.runs.map((run) => (
            <tr key={run.id}>
              <td data-label="Run">
                <Link to="/automations/$automationId/runs/$runId" params={{ automationId, runId: run.id }}>
                  {run.id.slice(0, 8)}
                </Link>
              </td>
              <td data-label="Status">
                <RunStatus status={run.status} />
              </td>
              <td data-label="Trigger">
                <code>{run.triggerEvent}</code>
              </td>
              <td data-label="Started">
                <TimeAgo at={run.startedAt ?? run.createdAt} />
              </td>
              <td data-label="Took">{formatDuration(run.startedAt, run.finishedAt) ?? "—"}</td>
              <td data-label="">
                {canEdit && ACTIVE_RUN_STATUSES.includes(run.status) ? (
                  <button type="button" onClick={() => cancel.mutate(run)} disabled={cancel.isPending}>
                    Cancel
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const SKIP_REASONS: Record<string, string> = {
  filter_false: "the trigger's filter did not hold",
  condition_false: "a condition did not hold",
  invalid_payload: "the payload did not match the trigger's schema",
  busy: "a run was already active (mode single)",
  max_runs: "maxRuns runs were already active",
  automation_disabled: "the automation was disabled",
  for_cancelled: "the entity stopped matching before `for:` ran out",
};

function SkipList({ automationId }: { automationId: string }) {
  const skips = useQuery({ queryKey: ["automations", "skips", automationId], queryFn: ({ signal }) => api.automations.skips(automationId, signal) });
  if (skips.isPending) return <Loading what="skips" />;
  if (skips.error) return <ErrorMessage error={skips.error} title="Could not load the skips" />;
  if (skips.data.skips.length === 0) return <div className="notice">No skipped triggers.</div>;
  return (
    <table className="list">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Trigger</th>
          <th scope="col">Why skipped</th>
        </tr>
      </thead>
      <tbody>
        {skips.data.skips.map((skip) => (
          <tr key={skip.id}>
            <td data-label="When">
              <TimeAgo at={skip.createdAt} />
            </td>
            <td data-label="Trigger">
              <code>{skip.triggerEvent}</code>
            </td>
            <td data-label="Why skipped">
              {SKIP_REASONS[skip.reason] ?? skip.reason}
              {skip.verdicts
                .filter((verdict) => !verdict.passed)
                .map((verdict) => (
                  <code key={verdict.path} style={{ marginLeft: 6 }}>
                    {verdict.path}
                  </code>
                ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DefinitionTab({ automationId, version, readOnly }: { automationId: string; version: number; readOnly: boolean }) {
  const queryClient = useQueryClient();
  // Keyed by version: after a save the editor starts again from what the core stored.
  const yaml = useQuery({
    queryKey: ["automations", "yaml", automationId, version],
    queryFn: ({ signal }) => api.automations.getYaml(automationId, signal),
    staleTime: Infinity,
  });
  if (yaml.isPending) return <Loading what="the definition" />;
  if (yaml.error) return <ErrorMessage error={yaml.error} title="Could not load the definition" />;
  if (readOnly) return <pre aria-label="Definition (YAML)">{yaml.data}</pre>;
  return (
    <AutomationEditor
      key={version}
      initialYaml={yaml.data}
      save={(text) => api.automations.replace(automationId, text)}
      onSaved={() => void queryClient.invalidateQueries({ queryKey: ["automations"] })}
      saveLabel="Save"
    />
  );
}
