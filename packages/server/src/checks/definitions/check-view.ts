// A check as the API shows it: `{ id, …definition, revision, createdAt, updatedAt }`, with
// credential headers `<redacted>` and its fields in the order people read and write them (what
// it is, its target, its schedule, where it runs, its assertions): jsonb keeps keys sorted by
// length, which would put `tls` before `url` and `name` in every answer and YAML edit.
import {
  type CheckDefinition,
  type CheckType,
  dnsOptionsShape,
  type HeartbeatCheckDefinition,
  httpOptionsShape,
  tcpOptionsShape,
  tlsOptionsShape,
} from "@vantage/protocol";
import type { CheckHealthStatus } from "../health/health-policy.ts";
import { checkSecrets } from "./header-secrets.ts";

/** A heartbeat check's view is its own definition (no target, schedule nor runOn). */
export type CheckView = { id: string } & (CheckDefinition | HeartbeatCheckDefinition) & {
    revision: number;
    createdAt: string;
    updatedAt: string;
  } & Partial<CheckHealthSummary>;

/**
 * The check's health as reads show it beside the definition (read-only, dropped from a PUT or
 * PATCH body): the check-health entity's status, since and reason, or `unknown` since the
 * check was created while no result has been evaluated.
 */
export interface CheckHealthSummary {
  status: CheckHealthStatus;
  statusSince: string;
  statusReason: string;
}

/** The summary's fields: derived, never part of a definition. */
export const HEALTH_SUMMARY_FIELDS = ["status", "statusSince", "statusReason"] as const;

/**
 * A row of the checks table as the store reads it. `definition` is as stored: each credential
 * header a `{ sealed }` object (CheckStore.openDefinition opens them).
 */
export interface CheckRow {
  id: string;
  definition: CheckDefinition;
  revision: number;
  created_at: Date;
  updated_at: Date;
  /** The check_health columns, when the read joined them (HEALTH_COLUMNS); null for a check never evaluated. */
  health_status?: CheckHealthStatus | null;
  health_since?: Date | null;
  health_reason?: string | null;
}

const OPTION_KEYS: Record<CheckType, string[]> = {
  http: Object.keys(httpOptionsShape),
  tcp: Object.keys(tcpOptionsShape),
  dns: Object.keys(dnsOptionsShape),
  tls: Object.keys(tlsOptionsShape),
};

/** Each type's field order; a field not named here (added to the schema later) follows them. */
const FIELD_ORDER = Object.fromEntries(
  Object.entries(OPTION_KEYS).map(([type, options]) => [
    type,
    ["name", "description", "type", "enabled", ...options, "intervalSeconds", "timeoutMs", "degradedAfterMs", "runOn", "labels", "assertions", "health"],
  ]),
) as Record<CheckType, string[]>;

function ordered(definition: CheckDefinition): CheckDefinition {
  const fields = definition as unknown as Record<string, unknown>;
  const order = FIELD_ORDER[definition.type as CheckType] ?? [];
  const known = order.filter((key) => fields[key] !== undefined).map((key) => [key, fields[key]]);
  const rest = Object.entries(fields).filter(([key]) => !order.includes(key));
  return Object.fromEntries([...known, ...rest]) as CheckDefinition;
}

export function checkView(row: CheckRow): CheckView {
  return {
    id: row.id,
    ...ordered(checkSecrets.redact(row.definition)),
    revision: row.revision,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.health_status === undefined ? {} : healthSummary(row)),
  };
}

function healthSummary(row: CheckRow): CheckHealthSummary {
  if (!row.health_status) return { status: "unknown", statusSince: row.created_at.toISOString(), statusReason: "no results yet" };
  return { status: row.health_status, statusSince: row.health_since!.toISOString(), statusReason: row.health_reason ?? "" };
}
