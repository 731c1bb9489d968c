// Certificates made at test time for TLS tests on 127.0.0.1: a CA of our own and leaves it
// signs, valid (or expired, or about to expire) exactly when a test says. EC keys: fast to make.
import selfsigned from "selfsigned";

export interface KeyAndCertificate {
  /** PEM */
  key: string;
  /** PEM */
  cert: string;
}

export interface LeafOptions {
  commonName?: string;
  /** DNS names in the subject alternative names; default `localhost`. */
  names?: string[];
  /** IP addresses in the subject alternative names; default `127.0.0.1`. */
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa extends KeyAndCertificate {
  /** A server certificate this CA signs. */
  issue(options?: LeafOptions): Promise<KeyAndCertificate>;
}

const DAY_MS = 86_400_000;

/** A date `days` from now (negative: in the past). */
export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS);

function leafAttributes(options: LeafOptions) {
  const names = options.names ?? ["localhost"];
  const ips = options.ips ?? ["127.0.0.1"];
  return {
    keyType: "ec" as const,
    algorithm: "sha256" as const,
    notBeforeDate: options.notBefore ?? daysFromNow(-1),
    notAfterDate: options.notAfter ?? daysFromNow(90),
    extensions: [
      { name: "basicConstraints" as const, cA: false, critical: true },
      { name: "keyUsage" as const, digitalSignature: true, critical: true },
      { name: "extKeyUsage" as const, serverAuth: true },
      { name: "subjectAltName" as const, altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  };
}

/** A CA of our own (trusted by nobody unless a test passes it as an extra CA). */
export async function createTestCa(commonName = "Vantage Test CA"): Promise<TestCa> {
  const ca = await selfsigned.generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: daysFromNow(-30),
    notAfterDate: daysFromNow(3_650),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return {
    key: ca.private,
    cert: ca.cert,
    async issue(options = {}) {
      const leaf = await selfsigned.generate([{ name: "commonName", value: options.commonName ?? "localhost" }], {
        ...leafAttributes(options),
        ca: { key: ca.private, cert: ca.cert },
      });
      return { key: leaf.private, cert: leaf.cert };
    },
  };
}

/** A certificate that signs itself, as many internal services have. */
export async function selfSignedCertificate(options: LeafOptions = {}): Promise<KeyAndCertificate> {
  const pems = await selfsigned.generate([{ name: "commonName", value: options.commonName ?? "localhost" }], leafAttributes(options));
  return { key: pems.private, cert: pems.cert };
}
