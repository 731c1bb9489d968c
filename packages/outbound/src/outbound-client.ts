// The one outbound HTTP client: every request Vantage makes to a URL a user configured goes
// through `request()`, bounded in time, safe with redirects, and classified by one retry table.
// Probes ask more of it (TLS settings, an IP family, an address policy, phase timings, the
// peer's certificate): every exchange opens its own connections (exchange-connections.ts) and
// sends each request over one with node:http (send-hop.ts).
import type { Agent } from "node:http";
import type { Headers } from "undici";
import { ConnectionError, type ConnectionPhase } from "./connection-error.ts";
import { createExchangeConnections, type ExchangeConnections, type ExchangeTlsSettings } from "./exchange-connections.ts";
import { ExchangeDeadline } from "./exchange-deadline.ts";
import type { PeerCertificate } from "./peer-certificate.ts";
import { type Hop, nextHop, redirectTarget } from "./redirect-hop.ts";
import { createKeptConnections } from "./kept-connections.ts";
import { readBodyPrefix } from "./read-body-prefix.ts";
import { requestHeaders } from "./request-headers.ts";
import { type HopAnswer, sendHop } from "./send-hop.ts";
import { type FailureKind, isRetryable } from "./retryable.ts";
import type { AddressPolicy, IpFamily } from "./resolve-address.ts";

export interface OutboundClientOptions {
  /** Sent as User-Agent unless a request sets its own, e.g. `Vantage/0.1.0`. */
  userAgent: string;
}

/**
 * What a 3xx answer means. `"refuse"`: a failure naming where it pointed (webhooks and
 * notifications: following would turn a POST into a GET, recorded as a success). `{ follow: n }`:
 * up to n redirects are followed (probes), and credential headers never reach another origin.
 * `"answer"`: the 3xx is the answer, like any other status (a probe that does not follow).
 */
export type RedirectPolicy = "refuse" | "answer" | { follow: number };

/** Milliseconds per phase of an exchange, summed over its hops; a phase that did not happen is absent. */
export interface ExchangeTimings {
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  /** Waiting for the answer: from the request written to its first byte. */
  firstByteMs?: number;
  /** The whole exchange: every redirect, and reading the body. */
  totalMs: number;
}

export interface OutboundRequest {
  url: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bounds the whole exchange: connecting, every redirect, the answer and reading its body. */
  timeoutMs: number;
  /** The caller's cancellation (e.g. the process shutting down), combined with the timeout. */
  signal?: AbortSignal;
  /** Default `"refuse"`. */
  redirect?: RedirectPolicy;
  /** How much of the response body is kept, in bytes; default 2048. */
  maxBodyBytes?: number;
  /** The URL itself is a secret (a chat webhook's path is its token): messages name only origins. */
  secretUrl?: boolean;
  /** https: verification (default on), the name to verify, extra trusted CAs. */
  tls?: ExchangeTlsSettings;
  /** Connect over this IP family only (default: whichever the name resolves to). */
  ipFamily?: IpFamily;
  /** Judges every address the URL (and every redirect's) resolves to; a refusal is an `address_refused` failure. */
  addressPolicy?: AddressPolicy;
  /**
   * Keep the connection after the answer for the next request to the same origin with the
   * same settings, and use one kept if there is one (webhooks, notifications). Never for a
   * probe: it measures a fresh connection every run. A kept connection shows no DNS, connect
   * or TLS timings, nor the peer's certificate.
   */
  reuseConnection?: boolean;
}

/** What every result of an exchange that reached the network tells about it. */
export interface ExchangeFacts {
  timings?: ExchangeTimings;
  /** The certificate of the server that answered last, for https. */
  peerCertificate?: PeerCertificate;
  /** Redirects followed. */
  redirects?: number;
}

export interface OutboundResponse extends ExchangeFacts {
  ok: true;
  status: number;
  statusText: string;
  headers: Headers;
  /** The first `maxBodyBytes` of the body. */
  body: string;
  /** The URL that answered: the request's, or where redirects led. */
  url: string;
}

export interface OutboundFailure extends ExchangeFacts {
  ok: false;
  kind: FailureKind;
  /** Whether another attempt may succeed: the one table in retryable.ts. */
  retryable: boolean;
  /** What happened, naming the receiver by its origin (never a secret URL's path); no final period. */
  message: string;
  /** The receiver's answer, when it answered. */
  status?: number;
  statusText?: string;
  /** The answer's headers and URL, for a `status` failure. */
  headers?: Headers;
  url?: string;
  body?: string;
  /** Where a redirect pointed, as the message shows it. */
  location?: string;
  /** For a failure to connect: the phase that failed and its code (`ENOTFOUND`, `ECONNREFUSED`, `CERT_HAS_EXPIRED` …). */
  phase?: ConnectionPhase;
  code?: string;
  cause?: unknown;
}

export type OutboundResult = OutboundResponse | OutboundFailure;

export interface OutboundClient {
  /** Never throws: every way a request can go wrong is an OutboundFailure. */
  request(request: OutboundRequest): Promise<OutboundResult>;
}

/** The client, and the end of the connections it kept for reuse (requests made later open new ones). */
export type ClosableOutboundClient = OutboundClient & { close(): void };

const DEFAULT_MAX_BODY_BYTES = 2_048;
// A URL in a message is cut here: a Location header can be as long as the receiver likes.
const MAX_SHOWN_URL = 300;

type FailureDetails = Omit<OutboundFailure, "ok" | "kind" | "retryable" | "message">;

function failure(kind: FailureKind, message: string, details: FailureDetails = {}): OutboundFailure {
  return { ok: false, kind, retryable: isRetryable(kind, details.status), message, ...details };
}

const isHttp = (url: URL) => url.protocol === "http:" || url.protocol === "https:";

/** A URL as messages show it: without user info, cut when long, only its origin when the URL is secret. */
function shown(url: URL, secret: boolean): string {
  if (secret) return isHttp(url) ? `${url.origin}/…` : `a ${url.protocol} URL`;
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.href.length > MAX_SHOWN_URL ? `${copy.href.slice(0, MAX_SHOWN_URL)}…` : copy.href;
}

/** Parsed once (`URL.canParse` first would parse every request's URL twice); a URL that does not parse is rare. */
function parseHttpUrl(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return isHttp(parsed) ? parsed : undefined;
}

/**
 * Which kept connections a request may use: everything but the address policy (compared by
 * identity). The plain case (no TLS settings, no IP family) is the origin alone, and cannot
 * collide with the others' JSON, which starts with `[`.
 */
function keptConnectionsKey(url: URL, request: OutboundRequest): string {
  if (request.tls === undefined && request.ipFamily === undefined) return `${url.protocol}//${url.host}`;
  return JSON.stringify([url.protocol, url.host, request.tls ?? null, request.ipFamily ?? null]);
}

export function createOutboundClient(options: OutboundClientOptions): ClosableOutboundClient {
  const kept = createKeptConnections();
  return {
    close: () => kept.close(),
    async request(request) {
      const url = parseHttpUrl(request.url);
      if (!url) {
        const what = request.secretUrl ? "The URL" : JSON.stringify(request.url.slice(0, MAX_SHOWN_URL));
        return failure("invalid_request", `${what} is not a valid http:// or https:// URL`);
      }
      // An invalid header name or value is refused by node:http before anything is sent (sendHop).
      const headers = requestHeaders(request.headers, options.userAgent);
      const started = performance.now();
      const deadline = new ExchangeDeadline(request.signal, request.timeoutMs);
      const settings = { host: url.hostname, tls: request.tls, ipFamily: request.ipFamily, addressPolicy: request.addressPolicy };
      const connections = createExchangeConnections(settings, deadline);
      // Only the first URL's connections are kept: a redirect elsewhere opens, and closes, its own.
      const agent = request.reuseConnection ? kept.agentFor(keptConnectionsKey(url, request), request.addressPolicy) : undefined;
      try {
        const result = await exchange({ url, method: request.method ?? "GET", headers, body: request.body }, request, deadline, connections, agent);
        if (result.timings) result.timings.totalMs = totalOf(result.timings, elapsedMs(started));
        return result;
      } finally {
        deadline.release();
        connections.close();
      }
    },
  };
}

const elapsedMs = (start: number) => Math.round((performance.now() - start) * 10) / 10;

/**
 * The whole exchange's time, never less than its phases' sum: each is rounded to tenths on its
 * own, and a waterfall whose parts outgrow their total (0.3 + 0.3 against 0.6 measured as 0.55)
 * would be a lie a user sees.
 */
function totalOf(timings: ExchangeTimings, elapsed: number): number {
  const phases = (timings.dnsMs ?? 0) + (timings.connectMs ?? 0) + (timings.tlsMs ?? 0) + (timings.firstByteMs ?? 0);
  return Math.max(elapsed, Math.round(phases * 10) / 10);
}

/** Makes the request and, as the policy allows, follows its redirects; the answer or the failure. */
async function exchange(
  first: Hop,
  request: OutboundRequest,
  deadline: ExchangeDeadline,
  connections: ExchangeConnections,
  agent?: Agent,
): Promise<OutboundResult> {
  const policy = request.redirect ?? "refuse";
  let hop = first;
  let waitedMs = 0;
  for (let followed = 0; ; followed++) {
    let response: HopAnswer;
    const hopStarted = performance.now();
    const setupBefore = connections.setupMs();
    try {
      // Redirects are ours to judge (below): never followed with every header, to any origin.
      response = await sendHop(hop, connections.open, deadline, hop.url.origin === first.url.origin ? agent : undefined);
    } catch (error) {
      return { ...transportFailure(error, hop.url, request, deadline), ...factsOf(connections, followed) };
    }
    // The wait for this answer: the hop's time less the connections it had to open.
    waitedMs += Math.max(0, performance.now() - hopStarted - (connections.setupMs() - setupBefore));
    const location = policy === "answer" ? undefined : redirectTarget(response, hop.url);
    // Assigned, not spread: spreading would read (and so build) the answer's lazy headers.
    if (location === undefined)
      return Object.assign(
        await answered(response, hop.url, request.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
        factsOf(connections, followed, { url: hop.url, waitedMs }),
      );
    response.body.destroy();
    const where = shown(location, request.secretUrl ?? false);
    const details = {
      status: response.status,
      statusText: response.statusText,
      location: where,
      ...factsOf(connections, followed, { url: hop.url, waitedMs }),
    };
    const pointing = `${hop.url.origin} answered ${response.status} pointing to ${where}`;
    // "answer" never gets here: its 3xx was the answer.
    if (typeof policy !== "object") return failure("redirect", `${pointing}; redirects are not followed: use that URL instead`, details);
    if (followed >= policy.follow) return failure("redirect_limit", `${pointing}: more than ${policy.follow} redirects`, details);
    if (!isHttp(location)) return failure("redirect", `${pointing}, which is not an http:// or https:// URL`, details);
    hop = nextHop(hop, response.status, location);
  }
}

/**
 * What the network told so far: the connections' timings, and for a hop that was answered, its
 * wait for the first byte and its server's certificate. `totalMs` is set by the caller once the
 * exchange is over.
 */
function factsOf(connections: ExchangeConnections, followed: number, answered?: { url: URL; waitedMs: number }): ExchangeFacts {
  const timings = connections.timings() as ExchangeTimings;
  if (answered) timings.firstByteMs = Math.round(answered.waitedMs * 10) / 10;
  timings.totalMs = 0;
  const peerCertificate = answered && connections.certificateFor(answered.url);
  return peerCertificate ? { timings, redirects: followed, peerCertificate } : { timings, redirects: followed };
}

async function answered(response: HopAnswer, url: URL, maxBodyBytes: number): Promise<OutboundResult> {
  const answer = { status: response.status, statusText: response.statusText, url: url.href, body: await readBodyPrefix(response.body, maxBodyBytes) };
  if (response.status >= 200 && response.status <= 299) return withAnswerHeaders({ ok: true as const, ...answer }, response);
  return withAnswerHeaders(failure("status", `${url.origin} answered ${response.status}`, answer), response);
}

/** `result` with the answer's headers as a property read from the answer when first asked for: most callers judge the status alone. */
function withAnswerHeaders<T extends object>(result: T, response: HopAnswer): T & { headers: Headers } {
  return Object.defineProperty(result, "headers", {
    // A method, not a named arrow: the runtime (tsx, esbuild's keepNames) names each one it makes.
    get() {
      return response.headers;
    },
    enumerable: true,
    configurable: true,
  }) as T & { headers: Headers };
}

/** How a failure to connect shows: the phase tells whose problem it is. */
function connectionFailure(cause: ConnectionError, url: URL): OutboundFailure {
  const details = { phase: cause.phase, code: cause.code, cause, ...(cause.details.peerCertificate ? { peerCertificate: cause.details.peerCertificate } : {}) };
  if (cause.phase === "setup") return failure("invalid_request", `The request to ${url.origin} is invalid: ${cause.message}`, details);
  if (cause.phase === "policy") return failure("address_refused", `Did not connect to ${url.origin}: ${cause.message}`, details);
  return failure("network", `Could not reach ${url.origin}: ${cause.message}`, details);
}

function transportFailure(error: unknown, url: URL, request: OutboundRequest, deadline: ExchangeDeadline): OutboundFailure {
  // The caller's cancellation wins: it is why the timeout no longer matters.
  if (request.signal?.aborted) return failure("cancelled", `The request to ${url.origin} was cancelled`, { cause: request.signal.reason });
  if (deadline.aborted) return failure("timeout", `${url.origin} did not answer within ${request.timeoutMs} ms`, { cause: error });
  if (error instanceof ConnectionError) return connectionFailure(error, url);
  const cause = error as Error & { code?: string };
  // A request node refuses to send (a GET with a body, a bad method or header) is a TypeError, thrown before any network.
  if (cause instanceof TypeError) {
    return failure("invalid_request", `The request to ${url.origin} is invalid: ${cause.message}`, { cause: error });
  }
  return failure("network", `Could not reach ${url.origin}: ${cause.message || cause.code || String(cause)}`, {
    cause: error,
    ...(cause.code ? { code: cause.code } : {}),
  });
}
