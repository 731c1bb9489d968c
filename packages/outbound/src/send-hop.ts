// Sends one request of an exchange over a connection the exchange opened, with node:http:
// undici's fetch with an Agent per exchange cost 1–2.5 ms of CPU per request, node:http over
// the same connection ~0.3 ms (bench/check-throughput). What fetch added that callers rely on
// is kept here: the default Accept and Accept-Encoding, a decoded body, no body on GET/HEAD.
import { type Agent, type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { constants as zlib, createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Headers } from "undici";
import type { Hop } from "./redirect-hop.ts";

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/** The head of an answer, and its body decoded as the Content-Encoding says. */
export interface HopAnswer {
  status: number;
  statusText: string;
  /** The Location header: where a redirect points. */
  location: string | undefined;
  /** Every header, as fetch gives them: built when first read (most answers are judged by their status alone). */
  readonly headers: Headers;
  body: Readable;
}

// As fetch decodes: a body cut short still yields what arrived.
const FLUSH = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH };
const DECODERS: Record<string, () => Readable & NodeJS.WritableStream> = {
  gzip: () => createGunzip(FLUSH),
  "x-gzip": () => createGunzip(FLUSH),
  deflate: () => createInflate(FLUSH),
  br: () => createBrotliDecompress({ flush: zlib.BROTLI_OPERATION_FLUSH, finishFlush: zlib.BROTLI_OPERATION_FLUSH }),
};

/** The headers as sent: fetch's defaults where the request sets none, Host from the URL. */
function outgoingHeaders(hop: Hop): Record<string, string> {
  const headers: Record<string, string> = { ...hop.headers };
  headers.host ??= hop.url.host;
  headers.accept ??= "*/*";
  headers["accept-encoding"] ??= hop.url.protocol === "https:" ? "br, gzip, deflate" : "gzip, deflate";
  if (hop.body !== undefined) headers["content-type"] ??= "text/plain;charset=UTF-8";
  return headers;
}

/** The answer's raw headers as fetch's Headers. */
function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/**
 * The answer's header `name` (lower case) as node's `response.headers` gives it, read from the
 * raw pairs: node builds that object, every header of it, on first read, and most answers need
 * only these two. `joined`: every value joined with ", " (what node does for Content-Encoding);
 * otherwise the first (node keeps one Location and drops the repeats).
 */
function rawHeader(raw: string[], name: string, joined: boolean): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== name.length || raw[i]!.toLowerCase() !== name) continue;
    if (!joined) return raw[i + 1];
    value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
  }
  return value;
}

function answerOf(response: IncomingMessage, method: string): HopAnswer {
  let headers: Headers | undefined;
  return {
    status: response.statusCode!,
    statusText: response.statusMessage ?? "",
    location: rawHeader(response.rawHeaders, "location", false),
    get headers() {
      return (headers ??= headersOf(response.rawHeaders));
    },
    body: decodedBody(response, method),
  };
}

function decodedBody(response: IncomingMessage, method: string): Readable {
  const encoding = rawHeader(response.rawHeaders, "content-encoding", true)?.trim().toLowerCase();
  const decoder = encoding === undefined || method === "HEAD" || response.statusCode === 204 || response.statusCode === 304 ? undefined : DECODERS[encoding];
  if (!decoder) return response;
  const decoded = decoder();
  response.on("error", (error) => decoded.destroy(error));
  decoded.on("close", () => response.destroy());
  return response.pipe(decoded);
}

/**
 * Sends `hop` over a connection from `open` and settles with the answer's head; rejects with
 * what failed (a ConnectionError from `open`, a request node refuses, the deadline's abort:
 * `deadline` destroys the request when it passes, as node:http's `signal` option would).
 * With `agent`, over a connection it kept if it has one free, and the connection is kept
 * after the answer was read to its end.
 */
export function sendHop(
  hop: Hop,
  open: (url: URL, keep?: boolean) => Promise<Socket>,
  deadline: { watch(request: ClientRequest): void },
  agent?: Agent,
): Promise<HopAnswer> {
  return new Promise<HopAnswer>((resolve, reject) => {
    if (hop.body !== undefined && (hop.method === "GET" || hop.method === "HEAD")) {
      reject(new TypeError(`A ${hop.method} request cannot have a body`));
      return;
    }
    try {
      const request = httpRequest(
        {
          // The connection is ours (TLS included), so node's protocol check sees plain http.
          host: hop.url.hostname,
          path: hop.url.pathname + hop.url.search,
          method: hop.method,
          headers: outgoingHeaders(hop),
          setHost: false,
          ...(agent
            ? // A kept connection to this origin if the Agent has one free, else one opened here (kept-connections.ts).
              { agent, port: Number(hop.url.port || DEFAULT_PORTS[hop.url.protocol]), openSocket: () => open(hop.url, true) }
            : {
                createConnection(_options: unknown, created: (error: Error | null, socket?: Socket) => void) {
                  open(hop.url).then(
                    (socket) => created(null, socket),
                    (error: Error) => created(error),
                  );
                  return undefined;
                },
              }),
        } as unknown as Parameters<typeof httpRequest>[0],
        (response) => resolve(answerOf(response, hop.method)),
      );
      request.on("error", reject);
      deadline.watch(request);
      request.end(hop.body);
    } catch (error) {
      // An invalid method or header value: node refuses it before sending anything.
      reject(error as Error);
    }
  });
}
