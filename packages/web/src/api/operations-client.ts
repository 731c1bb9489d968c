// The API calls of the screens beside checks, satellites and automations: who the caller is,
// change history and the events feed, a check's incidents and uptime, users and API tokens,
// notification channels and maintenance windows. Same transport as client.ts; the shapes
// mirror the core's (the type test in test/api-types.test.ts checks them against its schemas).
import type { ApiToken, EntityChanged, Role, User, WhoAmI } from "@vantage/protocol";
import { id, json, none, type StatusCounts } from "./client.ts";

// --- History -----------------------------------------------------------------------------

interface Caused {
  id: string;
  automationId: string;
  triggerId: string;
  event: string;
  createdAt: string;
}

/** A recorded change with the automation runs it started and the skips it recorded. */
export type HistoryChange = EntityChanged & {
  seq: number;
  changeId: string;
  caused: { runs: Array<Caused & { status: string }>; skips: Array<Caused & { reason: string }> };
};
export interface ChangePage {
  changes: HistoryChange[];
  next: string | null;
}

// --- Checks: incidents and uptime ----------------------------------------------------------

export type IncidentSeverity = "unhealthy" | "degraded";
export interface Incident {
  id: string;
  severity: IncidentSeverity;
  start: string;
  end: string | null;
  durationMs: number;
  reason: string;
  locations: Record<string, string>;
}

export interface CheckUptime {
  checkId: string;
  from: string;
  to: string;
  uptime: number | null;
  durations: { healthyMs: number; degradedMs: number; unhealthyMs: number; unknownMs: number; maintenanceMs: number };
  reachability: number | null;
  locations: Record<
    string,
    {
      uptime: number | null;
      durations: { healthyMs: number; degradedMs: number; unhealthyMs: number; unobservableMs: number };
      reachability: number | null;
      counts: StatusCounts;
    }
  >;
}

// --- Settings ----------------------------------------------------------------------------

export type { ApiToken, Role, User, WhoAmI };
/** A created user: with the generated password when none was chosen (shown this once). */
export type CreatedUser = User & { password?: string };
/** A created token: its secret shown this once. */
export type CreatedApiToken = ApiToken & { token: string };

export type ChannelType = "webhook" | "slack" | "discord" | "email";
export interface Channel {
  id: string;
  name: string;
  type: ChannelType;
  config: Record<string, unknown>;
  secretsSet: string[];
  createdAt: string;
  updatedAt: string;
}
export interface TestDelivery {
  ok: boolean;
  status?: number;
  error?: string;
  retryable?: boolean;
}

export interface MaintenanceWindowInput {
  name: string;
  description?: string;
  checks: { ids?: string[]; labels?: Record<string, string> };
  start: string;
  end: string;
  recurrence?: { frequency: "weekly"; timeZone: string; days?: string[]; until?: string };
}
export type MaintenanceWindow = MaintenanceWindowInput & {
  id: string;
  active: boolean;
  occurrence: { start: string; end: string } | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
};

// --- Endpoints ---------------------------------------------------------------------------

export const operationsApi = {
  me: (signal?: AbortSignal) => json<WhoAmI>("/auth/me", { signal }),

  history: {
    /** The newest changes of these kinds, newest first: the overview's events feed. */
    latest: (kinds: readonly string[], limit: number, signal?: AbortSignal) =>
      json<ChangePage>("/changes/latest", { query: { kind: kinds.join(","), limit }, signal }),
    /** One entity's changes, newest first. */
    ofEntity: (kind: string, entityId: string, limit: number, signal?: AbortSignal) =>
      json<ChangePage>(`/entities/${id(kind)}/${id(entityId)}/changes`, { query: { limit }, signal }),
  },

  checks: {
    incidents: (checkId: string, limit: number, signal?: AbortSignal) =>
      json<{ incidents: Incident[]; nextCursor: string | null }>(`/checks/${id(checkId)}/incidents`, {
        query: { severity: "unhealthy,degraded", limit },
        signal,
      }),
    uptime: (checkId: string, range: { from: string; to: string }, signal?: AbortSignal) =>
      json<CheckUptime>(`/checks/${id(checkId)}/uptime`, { query: range, signal }),
  },

  users: {
    list: (signal?: AbortSignal) => json<{ users: User[] }>("/users", { signal }),
    create: (input: { email: string; role: Role; password?: string }) => json<CreatedUser>("/users", { method: "POST", json: input }),
    update: (userId: string, patch: { role?: Role; disabled?: boolean }) => json<User>(`/users/${id(userId)}`, { method: "PATCH", json: patch }),
    remove: (userId: string) => none(`/users/${id(userId)}`, { method: "DELETE" }),
  },

  tokens: {
    list: (signal?: AbortSignal) => json<{ tokens: ApiToken[] }>("/tokens", { signal }),
    create: (input: { name: string; role: Role; expiresAt?: string }) => json<CreatedApiToken>("/tokens", { method: "POST", json: input }),
    revoke: (tokenId: string) => none(`/tokens/${id(tokenId)}`, { method: "DELETE" }),
  },

  channels: {
    list: (signal?: AbortSignal) => json<{ channels: Channel[] }>("/notification-channels", { signal }),
    create: (input: { name: string; type: ChannelType; config: Record<string, unknown> }) =>
      json<Channel>("/notification-channels", { method: "POST", json: input }),
    /** A PATCH: fields left out are kept (secrets too), an optional one set to null is cleared; the type never changes. */
    update: (channelId: string, patch: { name?: string; config?: Record<string, unknown> }) =>
      json<Channel>(`/notification-channels/${id(channelId)}`, { method: "PATCH", json: patch }),
    test: (channelId: string) => json<TestDelivery>(`/notification-channels/${id(channelId)}/test`, { method: "POST" }),
    remove: (channelId: string) => none(`/notification-channels/${id(channelId)}`, { method: "DELETE" }),
  },

  maintenanceWindows: {
    list: (signal?: AbortSignal) =>
      json<{ windows: MaintenanceWindow[]; nextCursor: string | null }>("/maintenance-windows", { query: { limit: 200 }, signal }),
    create: (input: MaintenanceWindowInput) => json<MaintenanceWindow>("/maintenance-windows", { method: "POST", json: input }),
    /** The whole window; `revision` as read, so an edit made meanwhile answers 409 instead of being overwritten. */
    replace: (windowId: string, input: MaintenanceWindowInput & { revision: number }) =>
      json<MaintenanceWindow>(`/maintenance-windows/${id(windowId)}`, { method: "PUT", json: input }),
    remove: (windowId: string) => none(`/maintenance-windows/${id(windowId)}`, { method: "DELETE" }),
  },
};
