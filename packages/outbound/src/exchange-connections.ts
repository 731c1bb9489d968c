// The connections of one outbound exchange. fetch alone cannot time DNS, connect and TLS, nor
// take TLS settings, an IP family or an address policy per request, so every exchange gets
// its own undici Agent whose `connect` is ours (openConnection): it resolves and judges the
// address, connects, shakes hands as the request asks, and records what each phase took and
// the peer's certificate. undici (the npm package, so fetch and Agent are one version) rather
// than node:http: fetch's semantics — manual redirects, Headers, streamed bodies — stay the
// ones the client already builds on, and the Agent is the documented seam for our connector.
// An exchange's connections end with it: a probe measures a fresh connection every run, and
// nothing pooled outlives the request.
import { Agent } from "undici";
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
  dispatcher: Agent;
  /** Each phase summed over the connections opened so far (a redirect elsewhere opens another). */
  timings(): ConnectionTimings;
  /** Milliseconds spent opening connections so far: what a hop's wait for its answer does not include. */
  setupMs(): number;
  /** The certificate the server at `url`'s origin presented, for https. */
  certificateFor(url: URL): PeerCertificate | undefined;
  /** Ends every connection of the exchange. */
  close(): Promise<void>;
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };
const originKey = (protocol: string, hostname: string, port: string) => `${protocol}//${hostname}:${port || DEFAULT_PORTS[protocol]}`;

export function createExchangeConnections(settings: ExchangeSettings, signal: AbortSignal): ExchangeConnections {
  // Each phase summed over the connections opened; a phase no connection went through stays absent.
  const totals: ConnectionTimings = {};
  const certificates = new Map<string, PeerCertificate>();
  const add = (timings: ConnectionTimings | undefined) => {
    for (const phase of ["dnsMs", "connectMs", "tlsMs"] as const) {
      const ms = timings?.[phase];
      if (ms !== undefined) totals[phase] = (totals[phase] ?? 0) + ms;
    }
  };
  const verify = settings.tls?.verify ?? true;

  const dispatcher = new Agent({
    connect: (options, callback) => {
      const secure = options.protocol === "https:";
      const ownHost = options.hostname === settings.host;
      const target = {
        host: options.hostname,
        port: Number(options.port || DEFAULT_PORTS[options.protocol]),
        family: settings.ipFamily,
        addressPolicy: settings.addressPolicy,
        tls: secure
          ? {
              serverName: ownHost ? settings.tls?.serverName : undefined,
              ca: settings.tls?.ca,
              verifyChain: verify,
              verifyHostname: verify,
              alpn: ["http/1.1"],
            }
          : undefined,
      };
      openConnection(target, signal).then(
        (opened) => {
          add(opened.timings);
          if (opened.peerCertificate) certificates.set(originKey(options.protocol, options.hostname, options.port), opened.peerCertificate);
          callback(null, opened.socket);
        },
        (error: Error & { details?: { timings?: ConnectionTimings } }) => {
          add(error.details?.timings);
          callback(error, null);
        },
      );
    },
  });

  return {
    dispatcher,
    timings: () => Object.fromEntries(Object.entries(totals).map(([phase, ms]) => [phase, Math.round(ms * 10) / 10])),
    setupMs: () => (totals.dnsMs ?? 0) + (totals.connectMs ?? 0) + (totals.tlsMs ?? 0),
    certificateFor: (url) => certificates.get(originKey(url.protocol, url.hostname, url.port)),
    close: () => dispatcher.destroy().catch(() => undefined),
  };
}
