// The one table deciding which failed outbound requests are worth another attempt, for every
// caller (webhook steps, notify retries, later probes): what may answer differently later.

/** Why an outbound request did not succeed. */
export type FailureKind = "invalid_request" | "address_refused" | "network" | "timeout" | "cancelled" | "redirect" | "redirect_limit" | "status";

// 4xx a receiver may answer differently later: it timed out reading us, wants no early data, or is rate limiting.
const RETRYABLE_CLIENT_ERRORS = new Set([408, 425, 429]);
// 5xx a receiver will answer again, whatever the moment: it cannot serve this request at all
// (Not Implemented, HTTP Version Not Supported, Variant Also Negotiates, Loop Detected,
// Not Extended, Network Authentication Required). Every other 5xx, unknown ones too, is transient.
const PERMANENT_SERVER_ERRORS = new Set([501, 505, 506, 508, 510, 511]);

/** Whether an answer with this HTTP status may be different next time. */
export function isRetryableStatus(status: number): boolean {
  if (status >= 500 && status <= 599) return !PERMANENT_SERVER_ERRORS.has(status);
  return RETRYABLE_CLIENT_ERRORS.has(status);
}

const RETRYABLE: { [K in FailureKind]: boolean | ((status: number) => boolean) } = {
  // The request itself is malformed (a bad URL or header value): it will be again.
  invalid_request: false,
  // The address policy refused the target's address: it will again until an operator allows it.
  address_refused: false,
  // Refused, reset, DNS failure: the receiver may be back soon.
  network: true,
  timeout: true,
  // The caller gave up (e.g. the process shuts down): whoever resumes the work decides.
  cancelled: false,
  // A redirect we do not follow, or too many: the receiver will point there again.
  redirect: false,
  redirect_limit: false,
  status: isRetryableStatus,
};

/** Whether a failure of this kind (with this status, for `status`) is worth another attempt. */
export function isRetryable(kind: FailureKind, status?: number): boolean {
  const rule = RETRYABLE[kind];
  return typeof rule === "function" ? status !== undefined && rule(status) : rule;
}
