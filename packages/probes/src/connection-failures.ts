// A failure to reach a target, in a result's words: a stable error code (`dns`,
// `connection_refused`, `tls` …) and whose fault it is — the target's (down) or ours
// (error: an unusable setting, an address the policy refuses).
import { ConnectionError } from "@vantage/outbound";
import type { Finding } from "./probe-result.ts";

export interface FailureFacts {
  finding: Finding;
  error: { code: string; message: string };
}

const cut = (text: string) => (text.length > 1_000 ? `${text.slice(0, 999)}…` : text);

/** The error code of a connection phase's failure. */
function codeOf(error: ConnectionError): string {
  switch (error.phase) {
    case "setup":
      return "invalid_config";
    case "policy":
      return "address_refused";
    case "dns":
      return "dns";
    case "connect":
      return error.code === "ECONNREFUSED" ? "connection_refused" : "connect";
    case "tls":
      return "tls";
  }
}

/** What a ConnectionError (or anything else a connection threw) means for the run. */
export function connectionFailure(error: unknown): FailureFacts {
  if (error instanceof ConnectionError) {
    const code = codeOf(error);
    const ours = error.phase === "setup" || error.phase === "policy";
    const message = cut(error.message);
    return { finding: { status: ours ? "error" : "down", reason: message }, error: { code, message } };
  }
  const cause = error as NodeJS.ErrnoException;
  const message = cut(`${cause.message ?? String(error)}`);
  // Reset or closed mid-exchange: the target's doing.
  return { finding: { status: "down", reason: message }, error: { code: cause.code === "ECONNRESET" ? "connection_reset" : "network", message } };
}
