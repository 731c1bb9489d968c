// Targets the core location refuses: link-local addresses and the cloud-metadata endpoints,
// where a probe run by the core could read the core's own cloud credentials (a server-side
// request forgery through a check). Refused when a check is saved (literal addresses and known
// names), and by the probes at run time on resolved addresses; an operator lifts both with
// VANTAGE_ALLOW_PRIVATE_TARGETS=true. Satellites probe whatever their network reaches.
import type { CheckDefinition } from "@vantage/protocol";
import ipaddr from "ipaddr.js";

/** The config that lifts the rule, as the messages name it. */
export const ALLOW_PRIVATE_TARGETS_SETTING = "VANTAGE_ALLOW_PRIVATE_TARGETS=true";

const REFUSED_RANGES = [
  "169.254.0.0/16", // IPv4 link-local, with the metadata endpoint of AWS, Azure, GCP and Oracle (169.254.169.254)
  "fe80::/10", // IPv6 link-local
  "fd00:ec2::254/128", // AWS metadata over IPv6
  "100.100.100.200/32", // Alibaba Cloud metadata
].map((cidr) => ipaddr.parseCIDR(cidr));

const REFUSED_NAMES: ReadonlySet<string> = new Set(["metadata.google.internal"]);

/**
 * The host as a connection would reach it: IPv4 in any form `inet_aton` takes (`2852039166`,
 * `0xa9.0xfe.0xa9.0xfe`, `169.254.43518`) as dotted quads, IPv4-mapped IPv6 as IPv4, names in
 * lower case without a trailing dot.
 */
function canonicalHost(host: string): ipaddr.IPv4 | ipaddr.IPv6 | string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (bare.includes(":")) return ipaddr.IPv6.isValid(bare) ? ipaddr.process(bare) : bare.toLowerCase();
  let hostname = bare;
  try {
    // The WHATWG URL parser reads every IPv4 spelling the resolver does, and folds names.
    hostname = new URL(`http://${bare}`).hostname;
  } catch {
    // Not a host a connection could use either; the schema has judged it already.
  }
  return ipaddr.IPv4.isValidFourPartDecimal(hostname) ? ipaddr.IPv4.parse(hostname) : hostname.replace(/\.+$/, "");
}

/** Whether the core location refuses this host or address (a literal or a known metadata name). */
export function isRefusedCoreTarget(host: string): boolean {
  const canonical = canonicalHost(host);
  if (typeof canonical === "string") return REFUSED_NAMES.has(canonical);
  return REFUSED_RANGES.some(([range, bits]) => range.kind() === canonical.kind() && canonical.match(range, bits));
}

/** The fields of a definition that name where its probe connects, by path. */
function targetsOf(definition: CheckDefinition): Array<{ path: string; host: string }> {
  switch (definition.type) {
    case "http":
      return [{ path: "url", host: new URL(definition.url).hostname }];
    case "tcp":
    case "tls":
      return [{ path: "host", host: definition.host }];
    case "dns":
      return definition.server === undefined ? [] : [{ path: "server", host: definition.server }];
  }
}

/** A check that runs on the core, aimed at a refused target: one issue per such field. */
export function refusedTargetIssues(definition: CheckDefinition): Array<{ path: string; message: string }> {
  if (!definition.runOn.core) return [];
  return targetsOf(definition)
    .filter((target) => isRefusedCoreTarget(target.host))
    .map(({ path, host }) => ({
      path,
      message:
        `${host} is a link-local or cloud-metadata address, which checks running on the core may not probe (it could expose the core's cloud credentials); ` +
        `run the check on satellites only (runOn.core: false), or let the core probe such targets with ${ALLOW_PRIVATE_TARGETS_SETTING}`,
    }));
}
