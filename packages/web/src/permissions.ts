// What the signed-in caller may do, from GET /auth/me: a viewer reads, an editor also writes
// checks, satellites, automations, channels and windows, an admin also manages users and tokens.
// Screens hide the buttons the role may not use (the core refuses them anyway, with 403).
import { useQuery } from "@tanstack/react-query";
import { operationsApi, type Role } from "./api/operations-client.ts";

// The protocol's ROLES order, least to most (a type check keeps the names in step; its code is not bundled).
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

export interface Permissions {
  /** Null until the core answered. */
  role: Role | null;
  canEdit: boolean;
  isAdmin: boolean;
}

/** Shared by every screen; who the caller is does not change during a session. */
export const meQuery = { queryKey: ["me"], queryFn: ({ signal }: { signal: AbortSignal }) => operationsApi.me(signal), staleTime: Infinity } as const;

export function permissionsOf(role: Role | null): Permissions {
  const rank = role === null ? -1 : RANK[role];
  return { role, canEdit: rank >= RANK.editor, isAdmin: rank >= RANK.admin };
}

/** Until the answer arrives nothing editable shows: a viewer never sees a button flash. */
export function usePermissions(): Permissions {
  const me = useQuery(meQuery);
  return permissionsOf(me.data?.role ?? null);
}
