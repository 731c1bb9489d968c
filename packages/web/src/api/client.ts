// The typed API client: every call the UI makes to /api/v1, over fetch, with the auth module's
// headers. One file on purpose: once the core publishes its OpenAPI document (issue #13), a
// client generated from it replaces this one. Until then the response types mirror the
// core's views (a type test checks them against the server's own types).
import type { AutomationDefinition, CheckDefinition, CheckResultDetail, CheckRunStatus, ErrorCode, Issue, JsonValue, WhoAmI } from "@vantage/protocol";
import { authHeaders, signOut } from "../auth.ts";

// --- Shapes the API answers --------------------------------------------------------------

export type SatelliteStatus = "online" | "offline";
export type SatelliteConnectionEvent = "connected" | "disconnected" | "heartbeat_lost";

export interface Satellite {
  id: string;
  name: string;
  region: string;
  tags: string[];
  /** Null: the core's default threshold applies. */
  offlineThresholdMs: number | null;
  effectiveOfflineThresholdMs: number;
  status: SatelliteStatus;
  lastSeenAt: string | null;
  lastEvent: SatelliteConnectionEvent | null;
  version: string | null;
  capabilities: string[];
  /** The core process holding its connection. */
  instanceId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SatelliteInput {
  name: string;
  region: string;
  tags?: string[];
  offlineThresholdMs?: number;
}

/** A created satellite, with its token: the only time the API shows it. */
export type CreatedSatellite = Satellite & { token: string };

export type Automation = AutomationDefinition & { id: string; version: number; createdAt: string; updatedAt: string };

export type RunStatus = "queued" | "pending" | "running" | "succeeded" | "failed" | "cancelled";
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ["queued", "pending", "running"];

export interface Verdict {
  path: string;
  passed: boolean;
}

export interface Run {
  id: string;
  automationId: string;
  automationVersion: number;
  triggerId: string;
  triggerEvent: string;
  changeId: string | null;
  contextKey: string | null;
  status: RunStatus;
  trigger: {
    event: string;
    triggerId: string;
    payload: unknown;
    forMs: number | null;
    /** The entity change that fired it; null for a manual run. */
    change: { changeId: string; seq: number; kind: string; id: string; occurredAt: string } | null;
  };
  verdicts: Verdict[];
  error: string | null;
  stopReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Skip {
  id: string;
  automationId: string;
  automationVersion: number;
  triggerId: string;
  triggerEvent: string;
  changeId: string | null;
  reason: string;
  detail: Record<string, unknown>;
  verdicts: Verdict[];
  createdAt: string;
}

export interface Step {
  path: string;
  kind: string;
  status: string;
  input: JsonValue | null;
  output: JsonValue | null;
  error: string | null;
  attempts: number;
  dueAt: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** An event automations can trigger on, with its payload's JSON Schema. */
export interface TriggerInfo {
  id: string;
  displayName: string;
  description: string;
  payloadSchema: unknown;
}

// Checks

/** A stored check as GET /checks shows it (credential headers `<redacted>`). */
/**
 * A probed check as the core shows it, with its health summary. (Heartbeat checks are listed
 * too — their target reads empty — but the UI does not edit them yet.)
 */
export type Check = { id: string } & CheckDefinition & { revision: number; createdAt: string; updatedAt: string } & Partial<CheckHealthSummary>;

/** The health the checks list and a check's read carry beside its definition. */
export interface CheckHealthSummary {
  status: CheckHealthStatus;
  statusSince: string;
  statusReason: string;
}
/** A list item: `status` once the core adds health to the list (until then, from /checks/summaries). */
export type CheckListItem = Check & { status?: CheckHealthStatus };

export type CheckHealthStatus = "healthy" | "degraded" | "unhealthy" | "unknown";

/** GET /checks/status-counts. */
export type CheckStatusCounts = Record<CheckHealthStatus, number> & { total: number };
export type LocationHealthStatus = "healthy" | "degraded" | "unhealthy" | "unobservable";

/** The check-health entity's state (GET /checks/:id/health). */
export interface CheckHealth {
  status: CheckHealthStatus;
  since: string;
  reason: string;
  /** By location: "core" or a satellite's id. */
  locations: Record<string, { status: LocationHealthStatus; since: string; lastResultAt: string | null }>;
  flapping: boolean;
  maintenance: boolean;
  name: string;
  type: string;
  target: string;
  labels: Record<string, string>;
}

export interface StatusCounts {
  total: number;
  up: number;
  degraded: number;
  down: number;
  error: number;
}

export type BarRange = "24h" | "90d";

export interface CheckSummaries {
  range: BarRange;
  from: string;
  to: string;
  segmentSeconds: number;
  summaries: Array<{ checkId: string; health: CheckHealth | null; bars: StatusCounts[]; p95Ms?: Array<number | null> }>;
}

export interface CheckListFilters {
  type?: string;
  /** `key=value` each; all must hold. */
  label?: string[];
  enabled?: "true" | "false";
  namePrefix?: string;
  /** "core" or a satellite's id: checks observed from there. */
  location?: string;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface CheckStats {
  checkId: string;
  from: string;
  to: string;
  level: "1m" | "1h" | "1d";
  stepSeconds: number;
  locations: Array<{
    location: string;
    counts: StatusCounts;
    availability: number | null;
    latency: Percentiles & { minMs: number | null; maxMs: number | null; meanMs: number | null };
    series: Array<StatusCounts & Percentiles & { at: string; meanMs: number | null }>;
  }>;
}

export interface StoredResult {
  resultId: string;
  checkId: string;
  location: string;
  startedAt: string;
  durationMs: number;
  status: CheckRunStatus;
  statusCode: number | null;
  errorCode: string | null;
  detail: Record<string, unknown>;
}

/** One run on demand (POST /checks/test, POST /checks/:id/run). */
export interface ProbeResult {
  location: string;
  startedAt: string;
  durationMs: number;
  status: CheckRunStatus;
  detail: CheckResultDetail;
}

export type Validation = { valid: true; errors: []; events: string[] } | { valid: false; errors: Issue[] };

// --- Errors ------------------------------------------------------------------------------

/** An answer other than 2xx: the API's `{ error: { code, message, details } }`, or what we know. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | "network" | "unexpected",
    message: string,
    /** Validation issues, each at its path (invalid_input and its kin). */
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: ErrorCode; message?: string; details?: { issues?: Issue[] } } } | null;
  const error = body?.error;
  if (!error?.code) return new ApiError(response.status, "unexpected", `The core answered ${response.status} ${response.statusText}.`);
  return new ApiError(response.status, error.code, error.message ?? error.code, error.details?.issues ?? []);
}

// --- Transport ---------------------------------------------------------------------------

interface RequestOptions {
  method?: string;
  /** Sent as JSON, unless `yaml` is set. */
  json?: unknown;
  /** Sent as-is with content-type application/yaml. */
  yaml?: string;
  /** An array repeats its key (`label=a=1&label=b=2`). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  /** Ask for YAML instead of JSON (answers as text). */
  acceptYaml?: boolean;
  signal?: AbortSignal;
}

const API = "/api/v1";

async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...authHeaders(options.method), accept: options.acceptYaml ? "application/yaml" : "application/json" };
  let body: string | undefined;
  if (options.yaml !== undefined) {
    headers["content-type"] = "application/yaml";
    body = options.yaml;
  } else if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const query = Object.entries(options.query ?? {}).flatMap(([key, value]) =>
    value === undefined ? [] : typeof value === "object" ? value.map((item) => [key, item]) : [[key, String(value)]],
  );
  const search = query.length > 0 ? `?${new URLSearchParams(query)}` : "";
  let response: Response;
  try {
    response = await fetch(`${API}${path}${search}`, { method: options.method ?? "GET", headers, body, signal: options.signal });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "network", "The core cannot be reached; check that it is running.");
  }
  if (response.ok) return response;
  // The token is wrong or gone (rotated, core reset): back to Login.
  if (response.status === 401) void signOut();
  throw await toApiError(response);
}

export const json = async <T>(path: string, options?: RequestOptions): Promise<T> => (await request(path, options)).json() as Promise<T>;
export const none = async (path: string, options?: RequestOptions): Promise<void> => void (await request(path, options));
export const id = (value: string): string => encodeURIComponent(value);

// --- Endpoints ---------------------------------------------------------------------------

export const api = {
  /** Checks a token without keeping it: any authenticated read answers 200. */
  async verifyToken(token: string): Promise<boolean> {
    const response = await fetch(`${API}/auth/me`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
    if (response.ok) return true;
    if (response.status === 401) return false;
    throw await toApiError(response);
  },

  /** Starts a session (the core sets its cookie): null for a wrong e-mail or password. */
  async login(email: string, password: string): Promise<WhoAmI | null> {
    const response = await fetch(`${API}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (response.ok) return (await response.json()) as WhoAmI;
    if (response.status === 401) return null;
    throw await toApiError(response);
  },

  /** The session this browser's cookie holds, if one is still open (null otherwise). */
  async currentSession(): Promise<WhoAmI | null> {
    const response = await fetch(`${API}/auth/me`, { headers: { accept: "application/json" } });
    if (!response.ok) return null;
    const answer = (await response.json()) as WhoAmI;
    return answer.csrfToken === undefined ? null : answer;
  },

  satellites: {
    list: (signal?: AbortSignal) => json<{ satellites: Satellite[]; next: string | null }>("/satellites", { query: { limit: 1000 }, signal }),
    get: (satelliteId: string, signal?: AbortSignal) => json<Satellite>(`/satellites/${id(satelliteId)}`, { signal }),
    create: (input: SatelliteInput) => json<CreatedSatellite>("/satellites", { method: "POST", json: input }),
    update: (satelliteId: string, patch: Partial<SatelliteInput> & { offlineThresholdMs?: number | null }) =>
      json<Satellite>(`/satellites/${id(satelliteId)}`, { method: "PATCH", json: patch }),
    rotateToken: (satelliteId: string) => json<{ id: string; token: string }>(`/satellites/${id(satelliteId)}/rotate-token`, { method: "POST" }),
    remove: (satelliteId: string) => none(`/satellites/${id(satelliteId)}`, { method: "DELETE" }),
  },

  checks: {
    list: (filters: CheckListFilters & { cursor?: string; limit?: number }, signal?: AbortSignal) =>
      json<{ checks: CheckListItem[]; nextCursor: string | null }>("/checks", { query: { ...filters }, signal }),
    get: (checkId: string, signal?: AbortSignal) => json<Check>(`/checks/${id(checkId)}`, { signal }),
    /** How many checks are in each health status (checks without a result yet count as unknown). */
    statusCounts: (signal?: AbortSignal) => json<CheckStatusCounts>("/checks/status-counts", { signal }),
    /** Checks in one health status, in name order (the overview's "needs attention"). */
    withStatus: (status: CheckHealthStatus, limit: number, signal?: AbortSignal) =>
      json<{ checks: CheckListItem[]; nextCursor: string | null }>("/checks", { query: { status, limit }, signal }),
    /** A page of checks' health and uptime bars, in the order asked. */
    summaries: (checkIds: readonly string[], range: BarRange, signal?: AbortSignal) =>
      json<CheckSummaries>("/checks/summaries", { query: { id: checkIds, range }, signal }),
    health: (checkId: string, signal?: AbortSignal) => json<CheckHealth>(`/checks/${id(checkId)}/health`, { signal }),
    stats: (checkId: string, range: { from: string; to: string }, signal?: AbortSignal) =>
      json<CheckStats>(`/checks/${id(checkId)}/stats`, { query: range, signal }),
    results: (checkId: string, query: { status?: string; limit?: number; location?: string }, signal?: AbortSignal) =>
      json<{ results: StoredResult[]; next: string | null }>(`/checks/${id(checkId)}/results`, { query, signal }),
    /** A definition as JSON (an object) or YAML (text, sent as written). */
    create: (definition: object | string) =>
      json<Check>("/checks", typeof definition === "string" ? { method: "POST", yaml: definition } : { method: "POST", json: definition }),
    replace: (checkId: string, definition: object | string) =>
      json<Check>(`/checks/${id(checkId)}`, typeof definition === "string" ? { method: "PUT", yaml: definition } : { method: "PUT", json: definition }),
    setEnabled: (checkId: string, enabled: boolean) => json<Check>(`/checks/${id(checkId)}/${enabled ? "enable" : "disable"}`, { method: "POST" }),
    remove: (checkId: string) => none(`/checks/${id(checkId)}`, { method: "DELETE" }),
    /** Runs an unsaved definition once where asked (`core` or a satellite's id); nothing is stored. */
    test: (definition: object, location = "core") => json<{ result: ProbeResult }>("/checks/test", { method: "POST", json: definition, query: { location } }),
    /** Runs the stored check once now; its result is stored like any run. */
    run: (checkId: string, location = "core") => json<{ result: ProbeResult }>(`/checks/${id(checkId)}/run`, { method: "POST", query: { location } }),
  },

  triggers: {
    list: (signal?: AbortSignal) => json<{ triggers: TriggerInfo[] }>("/triggers", { signal }),
  },

  automations: {
    list: (signal?: AbortSignal) => json<{ automations: Automation[] }>("/automations", { signal }),
    get: (automationId: string, signal?: AbortSignal) => json<Automation>(`/automations/${id(automationId)}`, { signal }),
    /** The stored definition as YAML, ready to edit and PUT back (secrets `<redacted>`). */
    getYaml: async (automationId: string, signal?: AbortSignal) => (await request(`/automations/${id(automationId)}`, { acceptYaml: true, signal })).text(),
    validate: (yaml: string) => json<Validation>("/automations/validate", { method: "POST", yaml }),
    create: (yaml: string) => json<Automation>("/automations", { method: "POST", yaml }),
    replace: (automationId: string, yaml: string) => json<Automation>(`/automations/${id(automationId)}`, { method: "PUT", yaml }),
    setEnabled: (automationId: string, enabled: boolean) =>
      json<Automation>(`/automations/${id(automationId)}/${enabled ? "enable" : "disable"}`, { method: "POST" }),
    remove: (automationId: string) => none(`/automations/${id(automationId)}`, { method: "DELETE" }),
    runs: (automationId: string, signal?: AbortSignal) => json<{ runs: Run[]; next: string | null }>(`/automations/${id(automationId)}/runs`, { signal }),
    skips: (automationId: string, signal?: AbortSignal) => json<{ skips: Skip[]; next: string | null }>(`/automations/${id(automationId)}/skips`, { signal }),
    run: (automationId: string, runId: string, signal?: AbortSignal) =>
      json<{ run: Run; steps: Step[] }>(`/automations/${id(automationId)}/runs/${id(runId)}`, { signal }),
    startRun: (automationId: string, payload?: Record<string, JsonValue>) =>
      json<{ run: Run }>(`/automations/${id(automationId)}/run`, { method: "POST", json: payload === undefined ? {} : { payload } }),
    cancelRun: (automationId: string, runId: string) => json<{ run: Run }>(`/automations/${id(automationId)}/runs/${id(runId)}/cancel`, { method: "POST" }),
  },
};
