// The check types and the choices the editor offers, as the protocol defines them — spelled
// out here so the list screen does not pull the editor's YAML library (or zod) into the main bundle.
export const CHECK_TYPES = ["http", "tcp", "dns", "tls"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "SOA", "CAA", "PTR"] as const;
