// IPv6 text as its 32 hex digits, the one spelling that compares by prefix and reverses into
// an ip6.arpa name, and IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) read as the IPv4 they are.

/** `2001:db8::1` → `20010db8000000000000000000000001`; an embedded IPv4 tail (`::ffff:1.2.3.4`) is converted. */
export function expandIpv6(address: string): string {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const ipv4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail = ""] = text.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = text.includes("::") ? [...groups(head), ...Array<string>(missing).fill("0"), ...groups(tail)] : groups(head);
  return all.map((group) => group.padStart(4, "0")).join("");
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for, else undefined. */
export function mappedIpv4(expandedIpv6: string): string | undefined {
  if (!expandedIpv6.startsWith("00000000000000000000ffff")) return undefined;
  const tail = expandedIpv6.slice(24);
  return [0, 2, 4, 6].map((at) => parseInt(tail.slice(at, at + 2), 16)).join(".");
}
