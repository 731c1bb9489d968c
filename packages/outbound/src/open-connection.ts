// Opens one connection to a target the way every check and outbound request does: resolve
// (the address policy judges each address), connect over TCP, and optionally shake hands
// over TLS with the caller's own trust settings — timing each phase and keeping the peer's
// certificate, even when verifying it fails.
import { isIP, Socket } from "node:net";
import { checkServerIdentity, connect as connectTls, type TLSSocket } from "node:tls";
import { ConnectionError, type ConnectionTimings, elapsedSince } from "./connection-error.ts";
import { describePeerCertificate, type PeerCertificate } from "./peer-certificate.ts";
import { type AddressPolicy, bareHost, type IpFamily, type ResolvedAddress, resolveAddresses } from "./resolve-address.ts";
import { trustedCertificates } from "./trusted-ca.ts";

export interface TlsSettings {
  /** The name sent in SNI and checked against the certificate; default the host (none for an IP address). */
  serverName?: string;
  /** Extra trusted CA certificates, PEM, on top of the system's. */
  ca?: string;
  /** Fail unless the chain leads to a trusted CA and is valid now. */
  verifyChain: boolean;
  /** Fail unless the certificate names `serverName` (or the host). */
  verifyHostname: boolean;
  /** ALPN protocols to offer, e.g. `["http/1.1"]`. */
  alpn?: string[];
}

export interface ConnectionTarget {
  host: string;
  port: number;
  family?: IpFamily;
  addressPolicy?: AddressPolicy;
  /** Absent: plain TCP. */
  tls?: TlsSettings;
}

export interface OpenedConnection {
  socket: Socket | TLSSocket;
  address: ResolvedAddress;
  timings: ConnectionTimings;
  /** The peer's certificate, for TLS. */
  peerCertificate?: PeerCertificate;
}

// Node's words for the chain errors users meet most, said for a result.
const CHAIN_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: "the certificate has expired",
  CERT_NOT_YET_VALID: "the certificate is not valid yet",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the chain ends in a self-signed certificate that is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the certificate is not signed by a trusted CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the certificate's issuer is not a trusted CA",
  UNABLE_TO_GET_ISSUER_CERT: "the certificate's issuer is not a trusted CA",
};

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts (the work is left to finish on its own). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = {
      handleEvent() {
        reject(signal.reason);
      },
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Waits for `ready` on one socket, or its error, or the signal's abort (the socket destroyed on
 * either). A class, not closures: one per connection (thousands a second), and the runtime
 * (tsx, with esbuild's keepNames) gives every named closure it makes a `name`.
 */
class SocketSettle<S extends Socket> {
  // Assigned in the constructor: a class field's arrow would be named too.
  private readonly onReady: () => void;
  private readonly onError: (error: Error) => void;

  constructor(
    private readonly socket: S,
    private readonly ready: "connect" | "secureConnect",
    private readonly signal: AbortSignal,
    private readonly resolve: (socket: S) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.onReady = () => this.settle(undefined);
    this.onError = (error: Error) => this.settle(error);
    socket.once(ready, this.onReady);
    socket.once("error", this.onError);
    if (signal.aborted) this.handleEvent();
    else signal.addEventListener("abort", this, { once: true });
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.settle(this.signal.reason, true);
  }

  private settle(error: unknown, aborted = false): void {
    this.socket.off(this.ready, this.onReady);
    this.socket.off("error", this.onError);
    this.signal.removeEventListener("abort", this);
    if (error === undefined && !aborted) return this.resolve(this.socket);
    this.socket.destroy();
    this.reject(error);
  }
}

/** Waits for `ready` on a socket; destroys it on an error or when the signal aborts. */
function settle<S extends Socket>(socket: S, ready: "connect" | "secureConnect", signal: AbortSignal): Promise<S> {
  return new Promise<S>((resolve, reject) => new SocketSettle(socket, ready, signal, resolve, reject));
}

/** Connects to the first address that accepts, trying the next on a network error (as browsers do with IPv6 and IPv4). */
async function connectTcp(addresses: ResolvedAddress[], port: number, signal: AbortSignal): Promise<{ socket: Socket; address: ResolvedAddress }> {
  let last: unknown;
  for (const address of addresses) {
    try {
      const socket = new Socket();
      socket.connect({ host: address.address, port, family: address.family });
      return { socket: await settle(socket, "connect", signal), address };
    } catch (error) {
      if (signal.aborted) throw error;
      last = error;
    }
  }
  const cause = last as NodeJS.ErrnoException;
  throw new ConnectionError("connect", cause.code ?? "ECONNECT", cause.message, { cause });
}

/** What the handshake showed, read the moment it completed: a peer that hangs up at once leaves nothing to read later. */
interface HandshakeFacts {
  authorized: boolean;
  authorizationError: unknown;
  certificate: PeerCertificate | undefined;
  legacyCertificate: ReturnType<TLSSocket["getPeerCertificate"]>;
}

/** The chain and host name checks the caller asked for: the error to fail with, or undefined. */
function verificationError(facts: HandshakeFacts, name: string, settings: TlsSettings): { code: string; message: string } | undefined {
  if (settings.verifyChain && !facts.authorized) {
    // With checkServerIdentity out of the way, authorizationError is the chain's code.
    const code = String(facts.authorizationError);
    return { code, message: `${CHAIN_ERRORS[code] ?? "the certificate chain is not trusted"} (${code})` };
  }
  if (settings.verifyHostname) {
    const mismatch = checkServerIdentity(name, facts.legacyCertificate);
    if (mismatch) return { code: (mismatch as NodeJS.ErrnoException).code ?? "ERR_TLS_CERT_ALTNAME_INVALID", message: mismatch.message };
  }
  return undefined;
}

async function handshake(socket: Socket, host: string, settings: TlsSettings, ca: string[] | undefined, signal: AbortSignal, timings: ConnectionTimings) {
  const name = settings.serverName ?? host;
  const started = performance.now();
  let secured: TLSSocket;
  let facts: HandshakeFacts | undefined;
  try {
    // Verification is ours (below), so that the certificate is still read when it fails and
    // chain and host name can be checked apart; no byte is sent before it passes.
    const tlsSocket = connectTls({
      socket,
      host,
      // SNI carries names only (RFC 6066): none for an IP address.
      servername: settings.serverName ?? (isIP(host) === 0 ? host : undefined),
      ca,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ALPNProtocols: settings.alpn,
    });
    tlsSocket.once("secureConnect", () => {
      const legacyCertificate = tlsSocket.getPeerCertificate();
      facts = {
        authorized: tlsSocket.authorized,
        authorizationError: tlsSocket.authorizationError,
        certificate: describePeerCertificate(legacyCertificate),
        legacyCertificate,
      };
    });
    secured = await settle(tlsSocket, "secureConnect", signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = error as NodeJS.ErrnoException;
    throw new ConnectionError("tls", cause.code ?? "ETLS", `TLS handshake failed: ${cause.message}`, { cause, timings });
  }
  timings.tlsMs = elapsedSince(started);
  const refused = verificationError(facts!, name, settings);
  if (refused) {
    secured.destroy();
    throw new ConnectionError("tls", refused.code, refused.message, { timings, peerCertificate: facts!.certificate });
  }
  return { socket: secured, peerCertificate: facts!.certificate };
}

/**
 * Opens a connection to `target`. Rejects with a ConnectionError naming the phase that
 * failed, or with the signal's reason once it aborts (every socket opened so far destroyed).
 */
export async function openConnection(target: ConnectionTarget, signal: AbortSignal): Promise<OpenedConnection> {
  const host = bareHost(target.host);
  // A bad extra CA is the caller's to fix: say so before touching the network.
  const ca = target.tls?.ca === undefined ? undefined : trustedCertificates(target.tls.ca);
  const timings: ConnectionTimings = {};
  let started = performance.now();
  const resolving = resolveAddresses(host, target.family, target.addressPolicy);
  // An IP address resolves at once, so there is no wait to cut short (connecting checks the signal).
  const { addresses, looked } = await (isIP(host) === 0 ? raceAbort(resolving, signal) : resolving);
  if (looked) timings.dnsMs = elapsedSince(started);
  started = performance.now();
  let connected: { socket: Socket; address: ResolvedAddress };
  try {
    connected = await connectTcp(addresses, target.port, signal);
  } catch (error) {
    if (error instanceof ConnectionError) throw new ConnectionError(error.phase, error.code, error.message, { cause: error.cause, timings });
    throw error;
  }
  timings.connectMs = elapsedSince(started);
  if (!target.tls) return { socket: connected.socket, address: connected.address, timings };
  const secured = await handshake(connected.socket, host, target.tls, ca, signal, timings);
  return { socket: secured.socket, address: connected.address, timings, peerCertificate: secured.peerCertificate };
}
