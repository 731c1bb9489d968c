// The connections of one outbound exchange, opened by us (openConnection) for each request
// the exchange sends: resolve and judge the address, connect, shake hands as the request asks,
// and record what each phase took and the peer's certificate. fetch alone cannot time DNS,
// connect and TLS, nor take TLS settings, an IP family or an address policy per request. An
// exchange's connections end with it: a probe measures a fresh connection every run, and
// nothing pooled outlives the request.
import type { Socket } from "node:net";
import type { ConnectionTimings } from "./connection-error.ts";
import { openConnection } from "./open-connection.ts";
import type { PeerCertificate } from "./peer-certificate.ts";
import type { AddressPolicy, IpFamily } from "./resolve-address.ts";

export interface ExchangeTlsSettings {
  /** Verify the chain and the host name (default true). */
  verify?: boolean;
  /** The name for SNI and verification, used for the request's own host only: a redirect elsewhere verifies its own name. */
  serverName?: string;
  /** Extra trusted CA certificates, PEM. */
  ca?: string;
}

export interface ExchangeSettings {
  /** The first URL's host: `tls.serverName` applies to connections to it. */
  host: string;
  tls?: ExchangeTlsSettings;
  ipFamily?: IpFamily;
  addressPolicy?: AddressPolicy;
}

export interface ExchangeConnections {
  /** Opens a fresh connection to `url`'s origin, for one request of the exchange; `keep`: for an Agent that keeps it after the exchange (kept-connections.ts). */
  open(url: URL, keep?: boolean): Promise<Socket>;
  /** Each phase summed over the connections opened so far (a redirect elsewhere opens another). */
  timings(): ConnectionTimings;
  /** Milliseconds spent opening connections so far: what a hop's wait for its answer does not include. */
  setupMs(): number;
  /** The certificate the server at `url`'s origin presented, for https. */
  certificateFor(url: URL): PeerCertificate | undefined;
  /** Ends every connection of the exchange but those opened to be kept. */
  close(): void;
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };
const tenths = (ms: number) => Math.round(ms * 10) / 10;
const originKey = (protocol: string, hostname: string, port: string) => `${protocol}//${hostname}:${port || DEFAULT_PORTS[protocol]}`;

/** Adds each phase of `timings` to `totals`; a phase no connection went through stays absent. */
function addTimings(totals: ConnectionTimings, timings: ConnectionTimings | undefined): void {
  if (timings?.dnsMs !== undefined) totals.dnsMs = (totals.dnsMs ?? 0) + timings.dnsMs;
  if (timings?.connectMs !== undefined) totals.connectMs = (totals.connectMs ?? 0) + timings.connectMs;
  if (timings?.tlsMs !== undefined) totals.tlsMs = (totals.tlsMs ?? 0) + timings.tlsMs;
}

/** Where the exchange's cancellation comes from: read only when a connection is opened (a kept one needs none). */
export interface ExchangeAbort {
  readonly signal: AbortSignal;
}

// Made for every exchange (thousands a second): its functions are methods, not named arrows,
// because the runtime (tsx, with esbuild's keepNames) defines a `name` on every named closure;
// the certificates and sockets are collected only once a connection is opened, which an
// exchange over a kept connection never does.
export function createExchangeConnections(settings: ExchangeSettings, abort: ExchangeAbort): ExchangeConnections {
  const totals: ConnectionTimings = {};
  let certificates: Map<string, PeerCertificate> | undefined;
  let sockets: Set<Socket> | undefined;

  return {
    async open(url: URL, keep = false): Promise<Socket> {
      const secure = url.protocol === "https:";
      const verify = settings.tls?.verify ?? true;
      const target = {
        host: url.hostname,
        port: Number(url.port || DEFAULT_PORTS[url.protocol]),
        family: settings.ipFamily,
        addressPolicy: settings.addressPolicy,
        tls: secure
          ? {
              serverName: url.hostname === settings.host ? settings.tls?.serverName : undefined,
              ca: settings.tls?.ca,
              verifyChain: verify,
              verifyHostname: verify,
              alpn: ["http/1.1"],
            }
          : undefined,
      };
      try {
        const opened = await openConnection(target, abort.signal);
        addTimings(totals, opened.timings);
        if (opened.peerCertificate) (certificates ??= new Map()).set(originKey(url.protocol, url.hostname, url.port), opened.peerCertificate);
        if (!keep) (sockets ??= new Set()).add(opened.socket);
        return opened.socket;
      } catch (error) {
        addTimings(totals, (error as { details?: { timings?: ConnectionTimings } }).details?.timings);
        throw error;
      }
    },
    timings() {
      // Built field by field: read once or twice per exchange.
      const rounded: ConnectionTimings = {};
      if (totals.dnsMs !== undefined) rounded.dnsMs = tenths(totals.dnsMs);
      if (totals.connectMs !== undefined) rounded.connectMs = tenths(totals.connectMs);
      if (totals.tlsMs !== undefined) rounded.tlsMs = tenths(totals.tlsMs);
      return rounded;
    },
    setupMs() {
      return (totals.dnsMs ?? 0) + (totals.connectMs ?? 0) + (totals.tlsMs ?? 0);
    },
    certificateFor(url) {
      return certificates?.get(originKey(url.protocol, url.hostname, url.port));
    },
    close() {
      if (!sockets) return;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
}
