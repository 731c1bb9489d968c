// Config as code in the UI: a resource a bundle owns is marked "managed by <bundle>", and its
// editor warns that an edit here is drift the bundle's next apply overwrites.
import { useQuery } from "@tanstack/react-query";
import { api, type ManagedKind } from "../../api/client.ts";
import { Badge } from "../../ui/components.tsx";

/** The bundle managing the resource; undefined while unknown or when none does. */
export function useManagedBy(kind: ManagedKind, resourceId: string): string | undefined {
  const owner = useQuery({
    queryKey: ["config", "managed-by", kind, resourceId],
    queryFn: ({ signal }) => api.config.managedBy(kind, resourceId, signal),
    staleTime: 30_000,
  });
  return owner.data ?? undefined;
}

const NO_OWNERS: ReadonlyMap<string, string> = new Map();

/** The bundle managing each owned resource of a kind, by id (empty while unknown): for a list screen's rows. */
export function useManagedByOfKind(kind: ManagedKind): ReadonlyMap<string, string> {
  const owners = useQuery({ queryKey: ["config", "managed-by", kind], queryFn: ({ signal }) => api.config.ownersOf(kind, signal), staleTime: 30_000 });
  return owners.data ?? NO_OWNERS;
}

export function ManagedByBadge({ bundle }: { bundle: string | undefined }) {
  if (bundle === undefined) return null;
  return (
    <span title={`Owned by the config bundle "${bundle}": edit it in the bundle's files and apply.`}>
      <Badge tone="idle">managed by {bundle}</Badge>
    </span>
  );
}

/** What an edit here does to a managed resource. */
export const managedEditWarning = (what: string, bundle: string) =>
  `This ${what} is managed by the config bundle "${bundle}". An edit here is drift: the bundle's next plan shows it and its next apply overwrites it. Change the bundle's files instead.`;

/** The warning above an editor of a managed resource. */
export function ManagedWarning({ what, bundle }: { what: string; bundle: string | undefined }) {
  if (bundle === undefined) return null;
  return (
    <div className="notice managed-warning" role="note">
      {managedEditWarning(what, bundle)}
    </div>
  );
}

/** Asks before an edit of a managed resource starts; true when there is nothing to ask or the user agrees. */
export function confirmManagedEdit(what: string, bundle: string | undefined): boolean {
  return bundle === undefined || window.confirm(`${managedEditWarning(what, bundle)}\n\nEdit it anyway?`);
}
