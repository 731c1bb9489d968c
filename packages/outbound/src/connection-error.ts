// Why opening a connection to a target failed, and in which phase: the outbound client turns
// it into a failure kind, a probe into the error code a user reads ("dns", "tls" …).
import type { PeerCertificate } from "./peer-certificate.ts";

/**
 * `setup`: our side's settings are unusable (an extra CA that does not parse) — nothing was
 * sent. `policy`: the address policy refused every address the name resolved to. The others
 * are the network phases, in order.
 */
export type ConnectionPhase = "setup" | "dns" | "policy" | "connect" | "tls";

/** Milliseconds each phase of one connection took; a phase that did not happen is absent (no lookup for an IP literal). */
export interface ConnectionTimings {
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
}

export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  constructor(
    readonly phase: ConnectionPhase,
    /** A stable code: Node's (`ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED` …) or ours (`ADDRESS_REFUSED`, `INVALID_CA`). */
    readonly code: string,
    message: string,
    readonly details: { timings?: ConnectionTimings; peerCertificate?: PeerCertificate; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

/** Milliseconds since `start` (a `performance.now()`), to a tenth: finer is noise. */
export function elapsedSince(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
