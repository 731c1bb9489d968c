// Automations: each with its triggers, mode, whether it is enabled and how its newest run went;
// a new one starts in the YAML editor.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { Badge, ListTable, PageHead, TimeAgo } from "../../ui/components.tsx";
import { usePermissions } from "../../permissions.ts";
import { RunStatus } from "./run-status.tsx";

export function AutomationsPage() {
  const automations = useQuery({ queryKey: ["automations", "list"], queryFn: ({ signal }) => api.automations.list(signal) });
  const list = automations.data?.automations ?? [];
  const { canEdit } = usePermissions();
  return (
    <>
      <PageHead
        title="Automations"
        sub="Actions run when entity changes fire their triggers."
        actions={
          canEdit ? (
            <Link to="/automations/new" className="button primary">
              New automation
            </Link>
          ) : null
        }
      />
      <ListTable
        what="automations"
        pending={automations.isPending}
        error={automations.error}
        errorTitle="Could not load the automations"
        items={automations.data ? list : undefined}
        empty="No automations yet. Write one in YAML: triggers, optional conditions, actions."
        label="Automations"
        columns={["Name", "State", "Triggers", "Mode", "Last run", "Changed"]}
        actions={false}
        row={(automation) => (
          <tr key={automation.id}>
            <td data-label="Name">
              <Link to="/automations/$automationId" params={{ automationId: automation.id }}>
                {automation.name}
              </Link>
            </td>
            <td data-label="State">{automation.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="idle">disabled</Badge>}</td>
            <td data-label="Triggers">
              <code>{automation.triggers.map((trigger) => trigger.event).join(", ")}</code>
            </td>
            <td data-label="Mode">{automation.mode}</td>
            <td data-label="Last run">
              {automation.lastRun ? (
                <>
                  <RunStatus status={automation.lastRun.status} /> <TimeAgo at={automation.lastRun.createdAt} />
                </>
              ) : (
                <span className="muted">never</span>
              )}
            </td>
            <td data-label="Changed">
              <TimeAgo at={automation.updatedAt} />
            </td>
          </tr>
        )}
      />
    </>
  );
}
