// The typed API client: every call the UI makes to /api/v1, over fetch, with the auth module's
// headers. The answers about checks and automations are typed by the core's own answer schemas
// (api-types.ts, derived, not copied); a type test holds those to the server's views.
import type { ErrorCode, Issue, JsonValue, WhoAmI } from "@vantage/protocol";
import { authHeaders, currentCredentials, signOutIfStill } from "../auth.ts";

// --- Shapes the API answers --------------------------------------------------------------

/** The kinds config as code manages that have a screen. */
export type ManagedKind = "Check" | "Automation" | "Satellite" | "NotificationChannel" | "MaintenanceWindow";

/** A resource a config bundle owns (GET /config/owners). */
export interface ResourceOwner {
  kind: ManagedKind;
  id: string;
  bundle: string;
  name: string;
  appliedAt: string;
}

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
  lastEventAt: string | null;
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

/** A heartbeat check's ping token and the path that takes its pings (`/hb/<token>`): answered on create and rotation only. */
export interface PingToken {
  pingToken: string;
  pingUrl: string;
}

/** A created satellite, with its token: the only time the API shows it. */
export type CreatedSatellite = Satellite & { token: string };

// Checks and automations: derived from the core's answer schemas (api-types.ts), all of them
// re-exported; those this file's calls name are imported too.
export type * from "./api-types.ts";
import type {
  Automation,
  AutomationListItem,
  BarRange,
  Check,
  CheckHealth,
  CheckHealthStatus,
  CheckStats,
  CheckStatusCounts,
  CheckSummaries,
  ProbeResult,
  Run,
  RunStatus,
  Skip,
  Step,
  StoredResult,
  TriggerInfo,
} from "./api-types.ts";

export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ["queued", "pending", "running"];

/** A would-be run of a replay: when, from which change, and the actions it would have taken. */
export interface ReplayRun {
  id: string;
  at: string;
  trigger: { id: string; event: string };
  changeId: string;
  entity: { kind: string; id: string };
  status: "succeeded" | "failed" | "waiting" | "cancelled" | "queued";
  steps: Array<{ path: string; kind: string; at: string; input: JsonValue }>;
}

export interface ReplayResult {
  from: string;
  to: string;
  changes: number;
  runs: number;
  skips: number;
  skipsByReason: Record<string, number>;
  days: Array<{ day: string; runs: number; skips: number }>;
  listedRuns: ReplayRun[];
  truncated: boolean;
  gaps: Array<{ from: string; to: string; reason: "before_retention" | "not_yet_recorded" }>;
}

export interface ReplayJob {
  id: string;
  status: "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  changes: number;
  result: ReplayResult | null;
  error: string | null;
}

/** GET /checks: a keyset page; `summaries` only when asked for. */
export interface CheckPage {
  checks: CheckListItem[];
  nextCursor: string | null;
  summaries?: CheckSummaries;
}

/** A list item: `status` once the core adds health to the list (until then, from /checks/summaries). */
export type CheckListItem = Check & { status?: CheckHealthStatus };

export interface CheckListFilters {
  type?: string;
  /** `key=value` each; all must hold. */
  label?: string[];
  enabled?: "true" | "false";
  namePrefix?: string;
  /** "core" or a satellite's id: checks observed from there. */
  location?: string;
}

/** A check a satellite's runOn selects (GET /checks/on-satellite/:id): in its assignments, or skipped with why. */
export interface SatelliteCheck {
  id: string;
  name: string;
  type: string;
  status: "assigned" | "skipped";
  reason?: "capability_missing" | "never_connected";
  message?: string;
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
    /** The core's Retry-After (a 503 or 429), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Retry-After in seconds (the core never sends the HTTP-date form). */
function retryAfterOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after") ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

async function toApiError(response: Response): Promise<ApiError> {
  const retryAfterMs = retryAfterOf(response);
  const body = (await response.json().catch(() => null)) as { error?: { code?: ErrorCode; message?: string; details?: { issues?: Issue[] } } } | null;
  const error = body?.error;
  if (!error?.code) return new ApiError(response.status, "unexpected", `The core answered ${response.status} ${response.statusText}.`, [], retryAfterMs);
  return new ApiError(response.status, error.code, error.message ?? error.code, error.details?.issues ?? [], retryAfterMs);
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
const READ_METHODS = new Set(["GET", "HEAD"]);

// A sign-in under way (Login's password or token, a session still open being picked up): reads
// wait for it, so they go out with its credentials rather than without and come back 401.
let signingIn: Promise<unknown> | null = null;

/** Holds reads until `signIn` settles (whichever way), and returns it. */
export function holdReads<T>(signIn: Promise<T>): Promise<T> {
  const held: Promise<unknown> = signIn
    .catch(() => undefined)
    .finally(() => {
      if (signingIn === held) signingIn = null;
    });
  signingIn = held;
  return signIn;
}

async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  if (signingIn && READ_METHODS.has((options.method ?? "GET").toUpperCase())) await signingIn;
  // The credentials this request goes out with: a 401 signs out only if they are still the current ones.
  const credentials = currentCredentials();
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
  // The token is wrong or gone (rotated, core reset, session expired): back to Login.
  if (response.status === 401) void signOutIfStill(credentials);
  throw await toApiError(response);
}

export const json = async <T>(path: string, options?: RequestOptions): Promise<T> => (await request(path, options)).json() as Promise<T>;
/**
 * The answer's body as bytes, for large answers read while the page is busy (the checks list's
 * pages, with their bars, while it scrolls): parsed in a worker, never made a string here
 * (features/checks/list/answer-parser.ts).
 */
export const rawBody = async (path: string, options?: RequestOptions): Promise<ArrayBuffer> => (await request(path, options)).arrayBuffer();
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
    /** A page of checks; with `summaries`, also their health and uptime bars over that range (one request for a whole list page). */
    list: (filters: CheckListFilters & { cursor?: string; limit?: number; summaries?: BarRange }, signal?: AbortSignal) =>
      json<CheckPage>("/checks", { query: { ...filters }, signal }),
    /** `list`'s answer unparsed (a `CheckPage`'s JSON): the checks list parses the pages that come while it scrolls in a worker. */
    listBody: (filters: CheckListFilters & { cursor?: string; limit?: number; summaries?: BarRange }, signal?: AbortSignal) =>
      rawBody("/checks", { query: { ...filters }, signal }),
    get: (checkId: string, signal?: AbortSignal) => json<Check>(`/checks/${id(checkId)}`, { signal }),
    /** How many checks are in each health status (checks without a result yet count as unknown). */
    statusCounts: (signal?: AbortSignal) => json<CheckStatusCounts>("/checks/status-counts", { signal }),
    /** Checks in one health status, in name order (the overview's "needs attention"). */
    withStatus: (status: CheckHealthStatus, limit: number, signal?: AbortSignal) =>
      json<{ checks: CheckListItem[]; nextCursor: string | null }>("/checks", { query: { status, limit }, signal }),
    /** A page of checks' health and uptime bars, in the order asked. */
    summaries: (checkIds: readonly string[], range: BarRange, signal?: AbortSignal) =>
      json<CheckSummaries>("/checks/summaries", { query: { id: checkIds, range }, signal }),
    /** `summaries`' answer unparsed (a `CheckSummaries`' JSON), for the checks list's worker. */
    summariesBody: (checkIds: readonly string[], range: BarRange, signal?: AbortSignal) =>
      rawBody("/checks/summaries", { query: { id: checkIds, range }, signal }),
    /** The enabled checks a satellite's assignments hold (or would, but skip: with why), by name. */
    onSatellite: (satelliteId: string, signal?: AbortSignal) => json<{ checks: SatelliteCheck[] }>(`/checks/on-satellite/${id(satelliteId)}`, { signal }),
    health: (checkId: string, signal?: AbortSignal) => json<CheckHealth>(`/checks/${id(checkId)}/health`, { signal }),
    stats: (checkId: string, range: { from: string; to: string }, signal?: AbortSignal) =>
      json<CheckStats>(`/checks/${id(checkId)}/stats`, { query: range, signal }),
    results: (checkId: string, query: { status?: string; limit?: number; location?: string }, signal?: AbortSignal) =>
      json<{ results: StoredResult[]; next: string | null }>(`/checks/${id(checkId)}/results`, { query, signal }),
    /** A definition as JSON (an object) or YAML (text, sent as written). A heartbeat check comes with its ping URL, this once. */
    create: (definition: object | string) =>
      json<Check & Partial<PingToken>>("/checks", typeof definition === "string" ? { method: "POST", yaml: definition } : { method: "POST", json: definition }),
    replace: (checkId: string, definition: object | string) =>
      json<Check>(`/checks/${id(checkId)}`, typeof definition === "string" ? { method: "PUT", yaml: definition } : { method: "PUT", json: definition }),
    setEnabled: (checkId: string, enabled: boolean) => json<Check>(`/checks/${id(checkId)}/${enabled ? "enable" : "disable"}`, { method: "POST" }),
    remove: (checkId: string) => none(`/checks/${id(checkId)}`, { method: "DELETE" }),
    /** A heartbeat check's new ping URL (shown this once); the old one stops working at once. */
    rotatePingToken: (checkId: string) => json<PingToken>(`/checks/${id(checkId)}/rotate-ping-token`, { method: "POST" }),
    /** Runs an unsaved definition once where asked (`core` or a satellite's id); nothing is stored. */
    test: (definition: object, location = "core") => json<{ result: ProbeResult }>("/checks/test", { method: "POST", json: definition, query: { location } }),
    /** Runs the stored check once now; its result is stored like any run. */
    run: (checkId: string, location = "core") => json<{ result: ProbeResult }>(`/checks/${id(checkId)}/run`, { method: "POST", query: { location } }),
  },

  triggers: {
    list: (signal?: AbortSignal) => json<{ triggers: TriggerInfo[] }>("/triggers", { signal }),
  },

  automations: {
    list: (signal?: AbortSignal) => json<{ automations: AutomationListItem[] }>("/automations", { signal }),
    get: (automationId: string, signal?: AbortSignal) => json<Automation>(`/automations/${id(automationId)}`, { signal }),
    /** The stored definition as YAML, ready to edit and PUT back (secrets `<redacted>`). */
    getYaml: async (automationId: string, signal?: AbortSignal) => (await request(`/automations/${id(automationId)}`, { acceptYaml: true, signal })).text(),
    validate: (yaml: string) => json<Validation>("/automations/validate", { method: "POST", yaml }),
    /** The definition's published JSON Schema (draft 2020-12): what an editor checks while typing. */
    schema: (signal?: AbortSignal) => json<Record<string, unknown>>("/automations/schema", { signal }),
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
    /** Replays the YAML as written over [from, to) of recorded history: a job to poll. */
    replay: (yaml: string, from: string, to: string) => json<ReplayJob>("/automations/replay", { method: "POST", json: { definition: yaml, from, to } }),
    replayJob: (replayId: string, signal?: AbortSignal) => json<ReplayJob>(`/automations/replay/${id(replayId)}`, { signal }),
  },

  config: {
    /** The bundle managing a resource (config as code), or null when none does. */
    managedBy: async (kind: ManagedKind, resourceId: string, signal?: AbortSignal): Promise<string | null> => {
      const { owners } = await json<{ owners: ResourceOwner[] }>("/config/owners", { query: { kind, id: resourceId }, signal });
      return owners[0]?.bundle ?? null;
    },
    /** Every owned resource of a kind: the bundle managing each, by resource id (one request for a list screen). */
    ownersOf: async (kind: ManagedKind, signal?: AbortSignal): Promise<Map<string, string>> => {
      const { owners } = await json<{ owners: ResourceOwner[] }>("/config/owners", { query: { kind }, signal });
      return new Map(owners.map((owner) => [owner.id, owner.bundle]));
    },
  },
};
