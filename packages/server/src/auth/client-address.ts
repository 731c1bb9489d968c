// The address a request really comes from, for the failed-login limiters of the admin API
// and the satellite gateway: the TCP peer, or behind trusted proxies the hop they forwarded.
import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses `VANTAGE_TRUSTED_PROXIES` entries: CIDRs or single addresses, IPv4 or IPv6. Throws on a bad one. */
export function parseTrustedProxies(entries: readonly string[]): Range[] {
  return entries.map((entry) => {
    const text = entry.trim();
    if (text.includes("/")) return normalizeRange(ipaddr.parseCIDR(text));
    const address = normalize(ipaddr.parse(text));
    return [address, address.kind() === "ipv4" ? 32 : 128];
  });
}

/** Whether `entry` is a valid trusted-proxy entry (for configuration errors). */
export function isTrustedProxyEntry(entry: string): boolean {
  try {
    parseTrustedProxies([entry]);
    return true;
  } catch {
    return false;
  }
}

function normalize(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

function normalizeRange([address, bits]: Range): Range {
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return [address, bits];
}

function inRanges(ranges: readonly Range[], address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return normalize(ipaddr.parse(text));
  } catch {
    return undefined;
  }
}

/** The headers a proxy may have set, as Node gives them (joined with ", " when repeated). */
export interface ForwardingHeaders {
  forwarded?: string | string[] | undefined;
  "x-forwarded-for"?: string | string[] | undefined;
}

/** Whether a request reached the first proxy over https (to mark cookies Secure). */
export type IsHttpsOf = (
  peer: string | undefined,
  url: string,
  headers: { forwarded?: string | undefined; "x-forwarded-proto"?: string | undefined },
) => boolean;

/**
 * https itself, or a trusted proxy in front saying so: `X-Forwarded-Proto` or `Forwarded`'s
 * `proto=` of the hop it appended (the rightmost). Any other peer's headers are not believed.
 */
export function createIsHttpsOf(trustedProxies: readonly string[] = []): IsHttpsOf {
  const ranges = parseTrustedProxies(trustedProxies);
  return (peer, url, headers) => {
    if (url.startsWith("https:")) return true;
    const peerAddress = peer === undefined ? undefined : parseAddress(peer);
    if (!peerAddress || !inRanges(ranges, peerAddress)) return false;
    const forwarded = headers.forwarded?.split(",").at(-1);
    const proto = forwarded !== undefined ? /(?:^|;)\s*proto="?(\w+)/i.exec(forwarded)?.[1] : headers["x-forwarded-proto"]?.split(",").at(-1);
    return proto?.trim().toLowerCase() === "https";
  };
}

/** Resolves a request's client address from its TCP peer and forwarding headers. */
export type ClientAddressOf = (peer: string | undefined, headers: ForwardingHeaders) => string;

/**
 * Headers are believed only from a trusted peer, and only as far as the chain stays trusted:
 * walking the hops from the right (the one our proxy appended) leftwards, the first address
 * that is not a trusted proxy is the client. Anything to its left was written by the client
 * and could be anything. `Forwarded` (RFC 7239) wins over `X-Forwarded-For` when both exist.
 */
export function createClientAddressOf(trustedProxies: readonly string[] = []): ClientAddressOf {
  const ranges = parseTrustedProxies(trustedProxies);
  const isTrusted = (address: ipaddr.IPv4 | ipaddr.IPv6) => inRanges(ranges, address);

  return (peer, headers) => {
    const peerAddress = peer === undefined ? undefined : parseAddress(peer);
    if (!peerAddress) return peer ?? "unknown";
    if (ranges.length === 0 || !isTrusted(peerAddress)) return peerAddress.toString();
    const hops = forwardedHops(headers);
    let client = peerAddress;
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = parseAddress(hops[index]!);
      // "unknown", an obfuscated name or garbage: the chain cannot be followed past it.
      if (!hop) break;
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return client.toString();
  };
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

/** The forwarded-for addresses, leftmost (the original client, as claimed) first. */
function forwardedHops(headers: ForwardingHeaders): string[] {
  const forwarded = joined(headers.forwarded);
  if (forwarded !== undefined) return forwarded.split(",").map(forParameter);
  return (joined(headers["x-forwarded-for"]) ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
}

/** The `for=` of one Forwarded element: `for=192.0.2.60`, `for="[2001:db8::1]:4711"`, `for=192.0.2.1:80`. */
function forParameter(element: string): string {
  for (const pair of element.split(";")) {
    const [name, ...rest] = pair.split("=");
    if (name?.trim().toLowerCase() !== "for") continue;
    const value = rest
      .join("=")
      .trim()
      .replace(/^"(.*)"$/, "$1");
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
    if (bracketed) return bracketed[1]!;
    const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
    return withPort ? withPort[1]! : value;
  }
  return "";
}
