// Extra trusted CA certificates a user supplies (PEM), checked before anything is sent: Node
// accepts a garbled PEM block without a word and then trusts nothing, which would read as the
// target's fault. Each block must parse as a certificate.
import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { ConnectionError } from "./connection-error.ts";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The CAs a TLS connection trusts: the system's roots plus `extraPem`'s certificates. Throws a `setup` ConnectionError when one does not parse. */
export function trustedCertificates(extraPem: string): string[] {
  const blocks = extraPem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0)
    throw new ConnectionError("setup", "INVALID_CA", "the extra CA holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)");
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new ConnectionError("setup", "INVALID_CA", `certificate ${index + 1} of the extra CA does not parse: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
  // Passing `ca` replaces Node's default trust, so the public roots are added back.
  return [...rootCertificates, ...blocks];
}
