// The next request of a followed redirect, as browsers make it: 303 (and 301/302 after a POST)
// becomes a bodiless GET, 307/308 repeat the request; credentials never go to another origin.
import { isCredentialHeader } from "./credential-headers.ts";
import { type RequestHeaders, withoutHeaders } from "./request-headers.ts";

/** One request of an exchange: the first, or one made by following a redirect. */
export interface Hop {
  url: URL;
  method: string;
  headers: RequestHeaders;
  body: string | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// Headers that describe a body: meaningless once a redirect drops it.
const BODY_HEADERS = new Set(["content-type", "content-length", "content-encoding", "content-language", "content-location"]);

/** Where a response redirects to (resolved against the request's URL), or undefined when it is not a redirect. */
export function redirectTarget(response: { status: number; location: string | undefined }, from: URL): URL | undefined {
  const { location } = response;
  if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return undefined;
  return URL.canParse(location, from.href) ? new URL(location, from) : undefined;
}

/**
 * The request that follows `hop` answered `status` pointing to `location`. Credential headers
 * (isCredentialHeader) are dropped when the origin changes, and stay dropped for later hops,
 * even one back to the first origin: simpler to reason about than re-adding them.
 */
export function nextHop(hop: Hop, status: number, location: URL): Hop {
  const toGet = status === 303 ? hop.method !== "HEAD" : (status === 301 || status === 302) && hop.method === "POST";
  const elsewhere = location.origin !== hop.url.origin;
  const headers = withoutHeaders(hop.headers, (name) => (toGet && BODY_HEADERS.has(name)) || (elsewhere && isCredentialHeader(name)));
  return { url: location, method: toGet ? "GET" : hop.method, headers, body: toGet ? undefined : hop.body };
}
