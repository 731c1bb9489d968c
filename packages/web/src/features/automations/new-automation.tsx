// A new automation, written in the YAML editor from a small working example.
import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { api } from "../../api/client.ts";
import { PageHead } from "../../ui/components.tsx";
import { AutomationEditor, NEW_AUTOMATION_YAML } from "./automation-editor.tsx";

export function NewAutomation() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (
    <>
      <p>
        <Link to="/automations">← Automations</Link>
      </p>
      <PageHead title="New automation" sub="Triggers, optional conditions, actions; see the README's Automations section for every field." />
      <AutomationEditor
        initialYaml={NEW_AUTOMATION_YAML}
        save={(yaml) => api.automations.create(yaml)}
        onSaved={(automation) => {
          void queryClient.invalidateQueries({ queryKey: ["automations"] });
          void navigate({ to: "/automations/$automationId", params: { automationId: automation.id } });
        }}
        saveLabel="Create"
      />
    </>
  );
}
