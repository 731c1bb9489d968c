// The tls probe: a handshake, and the peer certificate's facts — expiry, issuer, subject,
// SANs — judged by `failDays` (fewer days left → down), `warnDays` (→ degraded), chain and
// host name verification as asked, and the assertions.
import { type PeerCertificate } from "@vantage/outbound";
import { parseSubject, type TlsProbeSpec } from "@vantage/protocol";
import { type Observe } from "../assertions/evaluate-assertions.ts";
import { certificateFacts, daysRemaining, sanNames } from "../certificate-facts.ts";
import { probeConnection } from "../probe-connection.ts";
import { probeDeadline } from "../probe-deadline.ts";
import { elapsedSince, type Finding, judgeRun, type ProbeOptions, type ProbeResult } from "../probe-result.ts";

const DAY_MS = 86_400_000;
const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;

/** failDays and warnDays applied to the days left (failDays first: it is the worse news); an expired certificate is down. */
function expiryFinding(certificate: PeerCertificate, days: number, now: number, spec: TlsProbeSpec): Finding | undefined {
  if (days < 0) {
    const ago = Math.floor((now - Date.parse(certificate.validTo)) / DAY_MS);
    return { status: "down", reason: `the certificate expired ${ago === 0 ? "less than a day" : plural(ago, "day")} ago` };
  }
  const left = `the certificate expires in ${plural(days, "day")}`;
  if (days < spec.failDays) return { status: "down", reason: `${left} (fewer than failDays, ${spec.failDays})` };
  if (days < spec.warnDays) return { status: "degraded", reason: `${left} (fewer than warnDays, ${spec.warnDays})` };
  return undefined;
}

export async function probeTls(spec: TlsProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = probeDeadline(options.signal, spec.timeoutMs);
  const findings: Finding[] = [];
  const tls = { serverName: spec.serverName, verifyChain: spec.verifyChain, verifyHostname: spec.verifyHostname };
  const connection = await probeConnection({ ...spec, tls }, options, deadline);
  // A certificate that failed verification is still the one to report.
  const certificate = connection.peerCertificate;
  const error = connection.failure?.error;
  if (connection.failure) findings.push(connection.failure.finding);
  else if (!certificate) findings.push({ status: "down", reason: "the server presented no certificate" });

  const now = (options.now ?? Date.now)();
  const days = certificate ? daysRemaining(certificate.validTo, now) : undefined;
  const expiry = certificate && days !== undefined ? expiryFinding(certificate, days, now, spec) : undefined;
  if (expiry) findings.push(expiry);
  const timings = { ...connection.timings, totalMs: elapsedSince(started) };
  const observe: Observe = (subject) => {
    switch (parseSubject(subject).name) {
      case "certDaysRemaining":
        return days;
      case "responseTimeMs":
        return timings.totalMs;
      case "issuer":
        return certificate?.issuer;
      case "sans":
        return certificate ? sanNames(certificate) : undefined;
    }
    return undefined;
  };
  return judgeRun(findings, { spec, observe, timings, error, detail: certificate ? { cert: certificateFacts(certificate, now) } : {} });
}
