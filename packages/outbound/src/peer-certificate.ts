// The facts about a peer's certificate that checks report (expiry, issuer, subject, names),
// taken from what Node read in the handshake.
import type { PeerCertificate as NodePeerCertificate } from "node:tls";

export interface PeerCertificate {
  /** e.g. `CN=example.com, O=Example` */
  subject: string;
  issuer: string;
  /** Subject alternative names as written in the certificate: `DNS:example.com`, `IP Address:127.0.0.1`. */
  subjectAltNames: string[];
  /** ISO 8601. */
  validFrom: string;
  /** ISO 8601: when the certificate expires. */
  validTo: string;
}

/** `{ CN: "a", OU: ["b", "c"] }` → `CN=a, OU=b, OU=c`. */
function nameText(name: NodePeerCertificate["subject"] | undefined): string {
  if (!name) return "";
  return Object.entries(name as unknown as Record<string, string | string[]>)
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((part) => `${key}=${part}`))
    .join(", ");
}

// `subjectaltname` is `DNS:a, DNS:b, IP Address:127.0.0.1`; a name with a comma is quoted.
function splitAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return (text.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []).map((name) => name.trim()).filter(Boolean);
}

/**
 * The peer's leaf certificate in our terms (from `getPeerCertificate()`), or undefined when
 * the peer sent none. (Not `getPeerX509Certificate()`: on Node 20, calling it first leaves
 * `getPeerCertificate()` empty, which the host name check needs.)
 */
export function describePeerCertificate(certificate: NodePeerCertificate | undefined): PeerCertificate | undefined {
  if (!certificate || !certificate.valid_to) return undefined;
  return {
    subject: nameText(certificate.subject),
    issuer: nameText(certificate.issuer),
    subjectAltNames: splitAltNames(certificate.subjectaltname),
    // OpenSSL's text form ("Mar  3 12:00:00 2026 GMT") parses as a date.
    validFrom: new Date(certificate.valid_from).toISOString(),
    validTo: new Date(certificate.valid_to).toISOString(),
  };
}
