// The connection a tcp or tls probe runs over: opened by the one outbound client within the
// run's deadline, used, then closed; a failure to open or use it becomes the run's finding,
// keeping what the connection learned first (phase timings, a certificate that failed verification).
import { type ConnectionTimings, openConnection, type OpenedConnection, type PeerCertificate, type TlsSettings } from "@vantage/outbound";
import type { IP_FAMILIES } from "@vantage/protocol";
import { connectionFailure, type FailureFacts } from "./connection-failures.ts";
import type { ProbeDeadline } from "./probe-deadline.ts";
import { ipFamilyOf } from "./probe-limits.ts";
import type { ProbeOptions } from "./probe-result.ts";

export interface ProbeConnection {
  timings: ConnectionTimings;
  peerCertificate?: PeerCertificate;
  /** Why opening or using the connection failed: the deadline's word if it fired first. */
  failure?: FailureFacts;
}

/**
 * Opens a connection to `target`, hands it to `use`, and closes it; releases the deadline last
 * (the connection is the run's last use of the network). Never throws: a failure is returned.
 */
export async function probeConnection(
  target: { host: string; port: number; ipFamily: (typeof IP_FAMILIES)[number]; tls?: TlsSettings },
  options: Pick<ProbeOptions, "addressPolicy">,
  deadline: ProbeDeadline,
  use: (opened: OpenedConnection) => Promise<void> = async () => undefined,
): Promise<ProbeConnection> {
  const connection: ProbeConnection = { timings: {} };
  let opened: OpenedConnection | undefined;
  try {
    opened = await openConnection(
      { host: target.host, port: target.port, family: ipFamilyOf(target.ipFamily), addressPolicy: options.addressPolicy, tls: target.tls },
      deadline.signal,
    );
    connection.timings = opened.timings;
    connection.peerCertificate = opened.peerCertificate;
    await use(opened);
  } catch (caught) {
    connection.failure = deadline.stopped() ?? connectionFailure(caught);
    const details = (caught as { details?: { timings?: ConnectionTimings; peerCertificate?: PeerCertificate } }).details;
    connection.timings = details?.timings ?? connection.timings;
    connection.peerCertificate ??= details?.peerCertificate;
  } finally {
    opened?.socket.destroy();
    deadline.release();
  }
  return connection;
}
