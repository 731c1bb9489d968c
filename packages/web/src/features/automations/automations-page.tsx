// Automations: each with its triggers, mode and whether it is enabled; a new one starts in
// the YAML editor.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { Badge, ErrorMessage, Loading, PageHead, TimeAgo } from "../../ui/components.tsx";
import { usePermissions } from "../../permissions.ts";

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
      {automations.isPending ? <Loading what="automations" /> : null}
      <ErrorMessage error={automations.error} title="Could not load the automations" />
      {automations.data && list.length === 0 ? (
        <div className="notice">No automations yet. Write one in YAML: triggers, optional conditions, actions.</div>
      ) : null}
      {list.length > 0 ? (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Triggers</th>
              <th scope="col">Mode</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {list.map((automation) => (
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
                <td data-label="Changed">
                  <TimeAgo at={automation.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
