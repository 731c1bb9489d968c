// The check editor's model, pure so its round trip is tested without a DOM. The document being
// edited is the definition itself (what the API and the YAML tab hold); the form is a view of
// the fields it knows, and writing the form back changes only the fields the user changed — so
// whatever the form does not show (assertions, headers, a health window, satellite ids) survives,
// and YAML → form → YAML gives back the same definition.
import { parseDocument, stringify } from "yaml";
import type { Issue } from "@vantage/protocol";

import { CHECK_TYPES, type CheckType, HEARTBEAT, HEARTBEAT_GRACE_SECONDS, HEARTBEAT_PERIOD_SECONDS } from "../check-types.ts";

export { CHECK_TYPES, DNS_RECORD_TYPES, HTTP_METHODS } from "../check-types.ts";
export type { CheckType } from "../check-types.ts";

/** The definition as edited: a JSON object, possibly not (yet) valid. */
export type Draft = Record<string, unknown>;

export interface CheckForm {
  type: CheckType;
  name: string;
  description: string;
  enabled: boolean;
  intervalSeconds: string;
  timeoutMs: string;
  /** "env=prod, team=web" */
  labels: string;
  runOnCore: boolean;
  /** Satellite regions, comma separated: the check also runs on the satellites there. */
  satelliteRegions: string;
  failuresToUnhealthy: string;
  successesToRecover: string;
  url: string;
  method: string;
  /** "2xx, 301" */
  expectStatus: string;
  followRedirects: boolean;
  host: string;
  port: string;
  /** tcp: wrap the connection in TLS. */
  tls: boolean;
  send: string;
  expect: string;
  queryName: string;
  recordType: string;
  server: string;
  protocol: string;
  warnDays: string;
  failDays: string;
  /** heartbeat: how often the job pings, and how late a ping may be. */
  periodSeconds: string;
  graceSeconds: string;
}
export type FormField = keyof CheckForm;

/** The fields each type shows besides the common ones. */
export const TYPE_FIELDS: Record<CheckType, readonly FormField[]> = {
  http: ["url", "method", "expectStatus", "followRedirects"],
  tcp: ["host", "port", "tls", "send", "expect"],
  dns: ["queryName", "recordType", "server", "protocol"],
  tls: ["host", "port", "warnDays", "failDays"],
  heartbeat: ["periodSeconds", "graceSeconds"],
};
const COMMON_FIELDS: readonly FormField[] = [
  "name",
  "description",
  "enabled",
  "intervalSeconds",
  "timeoutMs",
  "labels",
  "runOnCore",
  "satelliteRegions",
  "failuresToUnhealthy",
  "successesToRecover",
];

/** The common fields of a probed check that a heartbeat check does not have: nothing schedules it nor runs it anywhere. */
const PROBE_ONLY_FIELDS: readonly FormField[] = ["intervalSeconds", "timeoutMs", "runOnCore", "satelliteRegions"];
/** What the form shows of the common fields for `type`. */
const commonFieldsOf = (type: CheckType): readonly FormField[] =>
  type === HEARTBEAT ? COMMON_FIELDS.filter((field) => !PROBE_ONLY_FIELDS.includes(field)) : COMMON_FIELDS;
/** A probed check's own top-level keys beyond the shared ones: what a change to heartbeat removes. */
const PROBE_ONLY_KEYS = ["intervalSeconds", "timeoutMs", "runOn", "assertions", "degradedAfterMs"] as const;

/** Each type's own top-level keys (the protocol's option shapes): what a change of type removes. */
const OPTION_KEYS: Record<CheckType, readonly string[]> = {
  http: ["url", "method", "headers", "body", "followRedirects", "maxRedirects", "tls", "ipFamily", "expectStatus"],
  tcp: ["host", "port", "tls", "serverName", "send", "expect", "ipFamily"],
  dns: ["queryName", "recordType", "server", "port", "protocol", "expectRcode"],
  tls: ["host", "port", "serverName", "warnDays", "failDays", "verifyChain", "verifyHostname", "ipFamily"],
  heartbeat: ["periodSeconds", "graceSeconds"],
};

// --- Reading and writing one field --------------------------------------------------------

type Path = readonly string[];

function getAt(draft: Draft, path: Path): unknown {
  let value: unknown = draft;
  for (const key of path) value = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** Sets (or with undefined removes) a nested value, copying the objects on the way; empties objects it emptied. */
function setAt(draft: Draft, path: Path, value: unknown): Draft {
  const [key, ...rest] = path as [string, ...string[]];
  const next: Draft = { ...draft };
  if (rest.length === 0) {
    if (value === undefined) delete next[key];
    else next[key] = value;
    return next;
  }
  const child = next[key];
  const inner = setAt(child !== null && typeof child === "object" && !Array.isArray(child) ? (child as Draft) : {}, rest, value);
  if (Object.keys(inner).length === 0 && value === undefined) delete next[key];
  else next[key] = inner;
  return next;
}

const text = (value: unknown): string => (value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

/** Whole numbers are sent as numbers; anything else as typed, for the API to name the field that is wrong. */
function numberOrText(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}
const textOrAbsent = (value: string): string | undefined => (value.trim() === "" ? undefined : value);
const list = (value: string): string[] =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

interface FieldCodec<Value> {
  read(draft: Draft): Value;
  write(draft: Draft, value: Value): Draft;
}

const plain = (path: Path): FieldCodec<string> => ({
  read: (draft) => text(getAt(draft, path)),
  write: (draft, value) => setAt(draft, path, textOrAbsent(value)),
});
const numeric = (path: Path): FieldCodec<string> => ({
  read: (draft) => text(getAt(draft, path)),
  write: (draft, value) => setAt(draft, path, numberOrText(value)),
});
const flag = (path: Path, fallback: boolean): FieldCodec<boolean> => ({
  read: (draft) => {
    const value = getAt(draft, path);
    return typeof value === "boolean" ? value : fallback;
  },
  write: (draft, value) => setAt(draft, path, value),
});
const choice = (path: Path, fallback: string): FieldCodec<string> => ({
  read: (draft) => text(getAt(draft, path)) || fallback,
  write: (draft, value) => setAt(draft, path, value),
});

const CODECS: { [Field in FormField]: FieldCodec<CheckForm[Field]> } = {
  type: {
    read: (draft) => ((CHECK_TYPES as readonly unknown[]).includes(draft.type) ? (draft.type as CheckType) : "http"),
    write: (draft, type) => ({ ...draft, type }),
  },
  name: plain(["name"]),
  description: plain(["description"]),
  enabled: flag(["enabled"], true),
  intervalSeconds: numeric(["intervalSeconds"]),
  timeoutMs: numeric(["timeoutMs"]),
  labels: {
    read: (draft) => {
      const labels = getAt(draft, ["labels"]);
      if (labels === null || typeof labels !== "object") return text(labels);
      return Object.entries(labels)
        .map(([key, value]) => `${key}=${text(value)}`)
        .join(", ");
    },
    write: (draft, value) => {
      const labels: Record<string, string> = {};
      for (const pair of list(value)) {
        const split = pair.indexOf("=");
        if (split === -1) labels[pair] = "";
        else labels[pair.slice(0, split).trim()] = pair.slice(split + 1).trim();
      }
      return setAt(draft, ["labels"], labels);
    },
  },
  runOnCore: {
    // Without runOn.core a check runs on the core unless it names satellites (the protocol's rule).
    read: (draft) => {
      const core = getAt(draft, ["runOn", "core"]);
      return typeof core === "boolean" ? core : getAt(draft, ["runOn", "satellites"]) === undefined;
    },
    write: (draft, value) => setAt(draft, ["runOn", "core"], value),
  },
  satelliteRegions: {
    read: (draft) => {
      const regions = getAt(draft, ["runOn", "satellites", "regions"]);
      return Array.isArray(regions) ? regions.map(text).join(", ") : text(regions);
    },
    write: (draft, value) => {
      const regions = list(value);
      return setAt(draft, ["runOn", "satellites", "regions"], regions.length > 0 ? regions : undefined);
    },
  },
  failuresToUnhealthy: numeric(["health", "failuresToUnhealthy"]),
  successesToRecover: numeric(["health", "successesToRecover"]),
  url: plain(["url"]),
  method: choice(["method"], "GET"),
  expectStatus: {
    read: (draft) => {
      const statuses = getAt(draft, ["expectStatus"]);
      return Array.isArray(statuses) ? statuses.map(text).join(", ") : text(statuses);
    },
    write: (draft, value) => {
      const statuses = list(value).map((status) => (/^\d+$/.test(status) ? Number(status) : status));
      return setAt(draft, ["expectStatus"], statuses.length > 0 ? statuses : undefined);
    },
  },
  followRedirects: flag(["followRedirects"], true),
  host: plain(["host"]),
  port: numeric(["port"]),
  tls: flag(["tls"], false),
  send: plain(["send"]),
  expect: plain(["expect"]),
  queryName: plain(["queryName"]),
  recordType: choice(["recordType"], "A"),
  server: plain(["server"]),
  protocol: choice(["protocol"], "udp"),
  warnDays: numeric(["warnDays"]),
  failDays: numeric(["failDays"]),
  periodSeconds: numeric(["periodSeconds"]),
  graceSeconds: numeric(["graceSeconds"]),
};

export const FORM_FIELDS = Object.keys(CODECS) as FormField[];

/** The fields a form of `type` shows, in order. */
export const fieldsOf = (type: CheckType): readonly FormField[] => {
  const common = commonFieldsOf(type);
  // The first ones (name … timeout) before the type's own, the rest (labels, where, health) after.
  const head = common.filter((field) => COMMON_FIELDS.indexOf(field) < 5);
  return ["type", ...head, ...TYPE_FIELDS[type], ...common.slice(head.length)];
};

// --- The document ↔ form ------------------------------------------------------------------

export function formOf(draft: Draft): CheckForm {
  return Object.fromEntries(FORM_FIELDS.map((field) => [field, CODECS[field].read(draft)])) as unknown as CheckForm;
}

function write<Field extends FormField>(draft: Draft, field: Field, value: CheckForm[Field]): Draft {
  return CODECS[field].write(draft, value);
}

/**
 * The document with the form's edits: only fields whose value differs from what the document
 * reads as are written, and only those the form shows for its type. A change of type drops
 * the old type's options the new one does not share (and `tls`, which means another thing).
 */
export function applyForm(draft: Draft, form: CheckForm): Draft {
  const before = formOf(draft);
  let next = draft;
  const typeChanged = form.type !== before.type;
  if (typeChanged) {
    next = { ...next };
    for (const key of OPTION_KEYS[before.type]) if (!OPTION_KEYS[form.type].includes(key) || key === "tls") delete next[key];
    // A heartbeat check takes none of a probe's scheduling (the API refuses unknown keys).
    if (form.type === HEARTBEAT) for (const key of PROBE_ONLY_KEYS) delete next[key];
    next.type = form.type;
    // The new type starts as a new check of it would (a heartbeat's period and grace, a probe's interval).
    for (const [key, value] of Object.entries(newDraft(form.type))) if (!(key in next)) next[key] = value;
  }
  const after = formOf(next);
  for (const field of FORM_FIELDS) {
    // Fields the form does not show for this type keep whatever the document holds.
    if (field === "type" || !(commonFieldsOf(form.type).includes(field) || TYPE_FIELDS[form.type].includes(field))) continue;
    // After a change of type, a field the user left as it was keeps what the new type starts with.
    const untouched = typeChanged && form[field] === before[field];
    if (form[field] !== after[field] && !untouched) next = write(next, field, form[field]);
  }
  return next;
}

/** A new check of `type`: just what the form needs filled. */
export function newDraft(type: CheckType = "http"): Draft {
  const starts: Record<CheckType, Draft> = {
    http: { url: "https://", intervalSeconds: 60 },
    tcp: { host: "", port: 443, intervalSeconds: 60 },
    dns: { queryName: "", recordType: "A", intervalSeconds: 60 },
    tls: { host: "", port: 443, intervalSeconds: 60 },
    // The API's defaults, written out so the user sees what the check will expect.
    heartbeat: { periodSeconds: HEARTBEAT_PERIOD_SECONDS.default, graceSeconds: HEARTBEAT_GRACE_SECONDS.default },
  };
  return { name: "", type, ...starts[type] };
}

/** What the API stores that the editor does not send back as part of the definition. */
const READ_ONLY = ["id", "revision", "createdAt", "updatedAt", "status"] as const;

/** A stored check as a document to edit: without its read-only fields (the editor keeps the revision aside). */
export function draftOfCheck(check: object): Draft {
  const draft: Draft = { ...(check as Draft) };
  for (const key of READ_ONLY) delete draft[key];
  return draft;
}

// --- The document ↔ YAML ------------------------------------------------------------------

export function toYaml(draft: Draft): string {
  return stringify(draft, { lineWidth: 0 });
}

export type YamlRead = { ok: true; draft: Draft } | { ok: false; error: string };

/** The YAML tab's text as a document: one mapping, or the first problem with its line. */
export function fromYaml(source: string): YamlRead {
  const document = parseDocument(source, { prettyErrors: true });
  const [error] = document.errors;
  if (error) return { ok: false, error: error.message.split("\n")[0]! };
  const value: unknown = document.toJS();
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, error: "The definition must be a mapping of fields (name: …, type: …)." };
  return { ok: true, draft: value as Draft };
}

// --- The API's issues → form fields -------------------------------------------------------

/** The form field an issue's path points at (`health.failuresToUnhealthy` → failuresToUnhealthy), or none. */
export function fieldOfPath(path: string, type: CheckType): FormField | undefined {
  const field = candidateFieldOf(path, type);
  // A field this type's form does not show (runOn on a heartbeat check) leaves the issue unplaced, so it is listed.
  return field !== undefined && fieldsOf(type).includes(field) ? field : undefined;
}

function candidateFieldOf(path: string, type: CheckType): FormField | undefined {
  const [head, second] = path.split(".");
  if (head === "health") return second === "failuresToUnhealthy" || second === "successesToRecover" ? second : undefined;
  if (head === "runOn") return path.includes("satellites") ? "satelliteRegions" : "runOnCore";
  if (head === "tls") return type === "tcp" ? "tls" : undefined;
  return head as FormField;
}

/** Issues by the form field they belong to; the rest (no field shows them) under "". */
export function issuesByField(issues: readonly Issue[], type: CheckType): Map<FormField | "", Issue[]> {
  const byField = new Map<FormField | "", Issue[]>();
  for (const issue of issues) {
    const field = fieldOfPath(issue.path, type) ?? "";
    byField.set(field, [...(byField.get(field) ?? []), issue]);
  }
  return byField;
}
