// The check types and the choices the editor offers, as the protocol defines them — spelled
// out here so the list screen does not pull the editor's YAML library (or zod) into the main
// bundle — and a check's target in one line.
export const CHECK_TYPES = ["http", "tcp", "dns", "tls"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "SOA", "CAA", "PTR"] as const;

/** What a check probes, in one line (the health state's `target` rule). */
export function targetOf(check: Record<string, unknown>): string {
  if (typeof check.url === "string") return check.url;
  if (typeof check.host === "string") return check.port ? `${check.host}:${String(check.port)}` : check.host;
  return typeof check.queryName === "string" ? check.queryName : "";
}
