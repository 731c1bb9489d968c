// Bounds every probe keeps, whatever a target sends, and the one mapping of a check's
// `ipFamily` option to the outbound client's.
import type { IpFamily } from "@vantage/outbound";
import type { IP_FAMILIES } from "@vantage/protocol";

/**
 * The most of a response the probes read: an http body for `body` and `json:` assertions, a
 * tcp response while looking for `expect`. The rest is dropped unread, so a 10 MiB answer
 * costs 64 KiB; a JSON document cut here does not parse, and its `json:` subjects read absent.
 */
export const MAX_ASSERTION_BODY_BYTES = 64 * 1024;

const FAMILIES: Record<(typeof IP_FAMILIES)[number], IpFamily | undefined> = { any: undefined, ipv4: 4, ipv6: 6 };

/** `ipv4` → 4, `ipv6` → 6, `any` → undefined (whatever the name resolves to). */
export function ipFamilyOf(option: (typeof IP_FAMILIES)[number]): IpFamily | undefined {
  return FAMILIES[option];
}
