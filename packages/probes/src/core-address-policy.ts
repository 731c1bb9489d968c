// The address policy the core applies to its own checks (its "core" location): no link-local
// address (169.254.0.0/16, fe80::/10) and no cloud metadata endpoint, where a check could read
// the core's own cloud credentials (169.254.169.254 on AWS, GCP, Azure; fd00:ec2::254 on AWS
// over IPv6; 100.100.100.200 on Alibaba Cloud). IPv4-mapped IPv6 spellings are the same
// addresses. Satellites need no policy: they run where their operator put them.
import type { AddressPolicy } from "@vantage/outbound";
import { expandIpv6, mappedIpv4 } from "./ip-address.ts";

const METADATA_IPV4 = new Set(["100.100.100.200"]);
const METADATA_IPV6 = new Set([expandIpv6("fd00:ec2::254")]);

/** Why an address is refused, or undefined. */
function refusalOf(address: string, family: 4 | 6): string | undefined {
  if (family === 6) {
    const expanded = expandIpv6(address);
    const ipv4 = mappedIpv4(expanded);
    if (ipv4 !== undefined) return refusalOf(ipv4, 4);
    // fe80::/10: the first 10 bits are 1111111010.
    if ((parseInt(expanded.slice(0, 3), 16) & 0xffc) === 0xfe8) return "a link-local address";
    if (METADATA_IPV6.has(expanded)) return "a cloud metadata address";
    return undefined;
  }
  if (address.startsWith("169.254.")) return "a link-local address (where clouds serve instance metadata)";
  if (METADATA_IPV4.has(address)) return "a cloud metadata address";
  return undefined;
}

/**
 * The core's policy. `howToAllow` tells the operator what to change to let such targets
 * through, e.g. "set VANTAGE_ALLOW_PRIVATE_TARGETS=true".
 */
export function coreAddressPolicy(howToAllow: string): AddressPolicy {
  return (address, family) => {
    const refusal = refusalOf(address, family);
    return refusal === undefined
      ? undefined
      : `${address} is ${refusal}, which checks on the core may not reach; ${howToAllow}, or run the check on a satellite`;
  };
}
