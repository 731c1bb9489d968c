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
import { checkSecrets } from "./header-secrets.ts";

/** A heartbeat check's view is its own definition (no target, schedule nor runOn). */
export type CheckView = { id: string } & (CheckDefinition | HeartbeatCheckDefinition) & { revision: number; createdAt: string; updatedAt: string };

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
  };
}
