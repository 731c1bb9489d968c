// The editor's two screens: a new check (starting from a small http definition) and an existing
// one (its stored definition, the revision read kept aside for the save).
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { api, type Check } from "../../../api/client.ts";
import { ErrorMessage, Loading, PageHead } from "../../../ui/components.tsx";
import { ManagedWarning, useManagedBy } from "../../config/managed-by.tsx";
import { CheckEditor } from "./check-editor.tsx";
import { draftOfCheck, newDraft } from "./check-form-model.ts";

/** Where a saved check goes: its own screen. */
function useOpenCheck(): (check: Check) => void {
  const navigate = useNavigate();
  return (check) => void navigate({ to: "/checks/$checkId", params: { checkId: check.id } });
}

export function NewCheck() {
  const onSaved = useOpenCheck();
  return (
    <>
      <Link to="/checks">← Checks</Link>
      <PageHead title="New check" sub="Fill the form or write YAML; Test runs it once without saving." />
      <CheckEditor initial={newDraft()} onSaved={onSaved} />
    </>
  );
}

export function EditCheck({ checkId }: { checkId: string }) {
  const onSaved = useOpenCheck();
  // Read once: an edit in progress is not replaced by a refetch (a newer revision is refused on save instead).
  const check = useQuery({
    queryKey: ["check", checkId, "edit"],
    queryFn: ({ signal }) => api.checks.get(checkId, signal),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const managedBy = useManagedBy("Check", checkId);
  if (check.isPending) return <Loading what="the check" />;
  if (check.error) return <ErrorMessage error={check.error} title="Could not load the check" />;
  return (
    <>
      <Link to="/checks/$checkId" params={{ checkId }}>
        ← {check.data.name}
      </Link>
      <PageHead title={`Edit ${check.data.name}`} sub={`revision ${check.data.revision}`} />
      <ManagedWarning what="check" bundle={managedBy} />
      <CheckEditor key={check.data.revision} initial={draftOfCheck(check.data)} stored={{ id: checkId, revision: check.data.revision }} onSaved={onSaved} />
    </>
  );
}
