// The check types and the choices the editor offers, as the protocol defines them — spelled
// out here so the list screen does not pull the editor's YAML library (or zod) into the main
// bundle — and a check's target in one line.
export const CHECK_TYPES = ["http", "tcp", "dns", "tls", "heartbeat"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];
/** The types something probes on a schedule (a heartbeat check is pinged instead). */
export type ProbeCheckType = Exclude<CheckType, "heartbeat">;
export const HEARTBEAT = "heartbeat";
// The protocol's heartbeat limits and defaults (check/heartbeat.ts), for the form's hints.
export const HEARTBEAT_PERIOD_SECONDS = { min: 30, max: 365 * 86_400, default: 3_600 } as const;
export const HEARTBEAT_GRACE_SECONDS = { min: 0, max: 7 * 86_400, default: 300 } as const;
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "SOA", "CAA", "PTR"] as const;

/** What a check probes, in one line (the health state's `target` rule). */
export function targetOf(check: Record<string, unknown>): string {
  if (check.type === HEARTBEAT) return "push";
  if (typeof check.url === "string") return check.url;
  if (typeof check.host === "string") return check.port ? `${check.host}:${String(check.port)}` : check.host;
  return typeof check.queryName === "string" ? check.queryName : "";
}

/** A heartbeat check's fields, from any check the API answered (its static type covers the probed ones only). */
export function heartbeatOf(check: object): { periodSeconds: number; graceSeconds: number } | null {
  const fields = check as Record<string, unknown>;
  if (fields.type !== HEARTBEAT) return null;
  const seconds = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
  return {
    periodSeconds: seconds(fields.periodSeconds, HEARTBEAT_PERIOD_SECONDS.default),
    graceSeconds: seconds(fields.graceSeconds, HEARTBEAT_GRACE_SECONDS.default),
  };
}

/** "90 s", "1 h", "1 d 2 h": a period in the largest units that say it exactly (at most two). */
export function formatSeconds(total: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3_600],
    ["min", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = total;
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return rest === 0 && parts.length > 0 ? parts.join(" ") : `${total} s`;
}

/** How often a check runs, in one line: "every 60 s", or a heartbeat's "a ping every 1 h (grace 5 min)". */
export function cadenceOf(check: object): string {
  const heartbeat = heartbeatOf(check);
  if (heartbeat) return `a ping every ${formatSeconds(heartbeat.periodSeconds)} (grace ${formatSeconds(heartbeat.graceSeconds)})`;
  const interval = (check as Record<string, unknown>).intervalSeconds;
  return `every ${typeof interval === "number" ? interval : 60} s`;
}
