// A peer certificate as a result carries it (expiry, days left, issuer, subject, SANs) —
// the same for https, TLS-wrapped TCP and tls checks.
import type { PeerCertificate } from "@vantage/outbound";
import type { CheckResultDetail } from "@vantage/protocol";

const DAY_MS = 86_400_000;
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Whole days until the certificate expires, negative once it has (a certificate that expired an hour ago has -1). */
export function daysRemaining(validTo: string, now: number): number {
  return Math.floor((Date.parse(validTo) - now) / DAY_MS);
}

export function certificateFacts(certificate: PeerCertificate, now: number): NonNullable<CheckResultDetail["cert"]> {
  return {
    expiresAt: certificate.validTo,
    daysRemaining: daysRemaining(certificate.validTo, now),
    issuer: cut(certificate.issuer, 500),
    subject: cut(certificate.subject, 500),
    sans: sanNames(certificate)
      .slice(0, 50)
      .map((name) => cut(name, 300)),
  };
}

/** SANs as results show them and assertions see them: the names without their `DNS:` / `IP Address:` prefix. */
export function sanNames(certificate: PeerCertificate): string[] {
  return certificate.subjectAltNames.map((name) => name.replace(/^(?:DNS|IP Address|URI|email):/, ""));
}
