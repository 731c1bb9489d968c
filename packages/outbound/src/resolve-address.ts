// Turns a target's host into the addresses to connect to, in the resolver's order, each one
// judged by the caller's address policy. The addresses judged are exactly the ones connected
// to (no second lookup), so a name cannot pass the policy and then resolve elsewhere.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ConnectionError } from "./connection-error.ts";

export type IpFamily = 4 | 6;

/**
 * Judges an address a target resolved to: a message saying why it is refused (and what to
 * change), or undefined to allow it. The core refuses link-local and cloud-metadata addresses
 * with it; the agent allows everything.
 */
export type AddressPolicy = (address: string, family: IpFamily) => string | undefined;

export interface ResolvedAddress {
  address: string;
  family: IpFamily;
}

/** `[::1]` (a URL's spelling) → `::1`. */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * The addresses of `host` (only of `family`, when given) the policy allows, in the resolver's
 * order. Throws a `dns` ConnectionError when nothing resolves, a `policy` one when the policy
 * refuses every address. `looked` tells whether a lookup happened (an IP literal needs none).
 */
export async function resolveAddresses(
  host: string,
  family: IpFamily | undefined,
  policy: AddressPolicy | undefined,
): Promise<{ addresses: ResolvedAddress[]; looked: boolean }> {
  const name = bareHost(host);
  const literal = isIP(name);
  let found: ResolvedAddress[];
  if (literal !== 0) {
    if (family !== undefined && literal !== family)
      throw new ConnectionError("dns", "EFAMILY", `${name} is an IPv${literal} address but the check asks for IPv${family}`);
    found = [{ address: name, family: literal as IpFamily }];
  } else {
    try {
      found = (await lookup(name, { all: true, family: family ?? 0 })) as ResolvedAddress[];
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "EDNS";
      throw new ConnectionError("dns", code, `could not resolve ${name}${family ? ` to an IPv${family} address` : ""} (${code})`, { cause: error });
    }
    if (found.length === 0) throw new ConnectionError("dns", "ENOTFOUND", `${name} has no address`);
  }
  if (!policy) return { addresses: found, looked: literal === 0 };
  const verdicts = found.map((candidate) => ({ candidate, refusal: policy(candidate.address, candidate.family) }));
  const allowed = verdicts.filter((verdict) => verdict.refusal === undefined).map((verdict) => verdict.candidate);
  if (allowed.length === 0) {
    const first = verdicts[0]!;
    const via = literal === 0 ? ` (the address of ${name})` : "";
    throw new ConnectionError("policy", "ADDRESS_REFUSED", `refused to connect to ${first.candidate.address}${via}: ${first.refusal}`);
  }
  return { addresses: allowed, looked: literal === 0 };
}
