// DNS records as text, the way `dig +short` shows them, so assertions compare strings: MX
// "10 mail.example.com", SRV "priority weight port target", SOA "mname rname serial refresh
// retry expire minimum", CAA `0 issue "ca.example"`, TXT its strings joined (as SPF reads them).
import type { Answer } from "dns-packet";
import { isIP } from "node:net";
import { expandIpv6 } from "../ip-address.ts";

const text = (value: string | Buffer) => (typeof value === "string" ? value : value.toString("utf8"));

/** One record's data as text, or undefined for a type we do not render. */
export function renderAnswer(answer: Answer): string | undefined {
  switch (answer.type) {
    case "A":
    case "AAAA":
    case "CNAME":
    case "NS":
    case "PTR":
      return answer.data;
    case "MX":
      return `${answer.data.preference ?? 0} ${answer.data.exchange}`;
    case "TXT":
      return Array.isArray(answer.data) ? answer.data.map(text).join("") : text(answer.data);
    case "SRV":
      return `${answer.data.priority ?? 0} ${answer.data.weight ?? 0} ${answer.data.port} ${answer.data.target}`;
    case "SOA": {
      const soa = answer.data;
      return [soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum].map((part) => part ?? 0).join(" ");
    }
    case "CAA":
      return `${answer.data.flags ?? 0} ${answer.data.tag} ${JSON.stringify(answer.data.value)}`;
    default:
      return undefined;
  }
}

/** The name a PTR query asks for: an IP address becomes its in-addr.arpa / ip6.arpa name; a name stays. */
export function reverseName(name: string): string {
  const family = isIP(name);
  if (family === 4) return `${name.split(".").reverse().join(".")}.in-addr.arpa`;
  if (family === 6) return `${expandIpv6(name).split("").reverse().join(".")}.ip6.arpa`;
  return name;
}
