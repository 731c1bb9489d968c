// The tcp probe: connect (optionally over TLS, verified), send `send` if given, and read the
// response when `expect` or an assertion needs it — until `expect` appears (bounded by
// MAX_ASSERTION_BODY_BYTES and the timeout) or, without `expect`, the first data.
import { type ConnectionTimings, openConnection, type OpenedConnection, type PeerCertificate } from "@vantage/outbound";
import { type CheckResultDetail, parseSubject, type TcpProbeSpec } from "@vantage/protocol";
import { evaluateAssertions, type Observe, subjectNames } from "../assertions/evaluate-assertions.ts";
import { certificateFacts, daysRemaining } from "../certificate-facts.ts";
import { connectionFailure } from "../connection-failures.ts";
import { probeDeadline } from "../probe-deadline.ts";
import { ipFamilyOf, MAX_ASSERTION_BODY_BYTES } from "../probe-limits.ts";
import { assertionFindings, elapsedSince, type Finding, type ProbeOptions, type ProbeResult, resultOf, slownessFinding } from "../probe-result.ts";
import { readResponse } from "./read-response.ts";

/** How much of the response a failed run carries (`detail.tcp.response`). */
const MAX_SHOWN_RESPONSE = 1_024;

function write(socket: OpenedConnection["socket"], data: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

export async function probeTcp(spec: TcpProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = probeDeadline(options.signal, spec.timeoutMs);
  const wantsResponse = spec.expect !== undefined || subjectNames(spec.assertions).has("response");
  const findings: Finding[] = [];
  let error: CheckResultDetail["error"];
  let connectionTimings: ConnectionTimings = {};
  let certificate: PeerCertificate | undefined;
  let response: string | undefined;
  let firstByteMs: number | undefined;
  let opened: OpenedConnection | undefined;
  try {
    const tls = spec.tls ? { serverName: spec.serverName, verifyChain: true, verifyHostname: true } : undefined;
    opened = await openConnection({ host: spec.host, port: spec.port, family: ipFamilyOf(spec.ipFamily), addressPolicy: options.addressPolicy, tls }, deadline.signal);
    connectionTimings = opened.timings;
    certificate = opened.peerCertificate;
    if (spec.send !== undefined) await write(opened.socket, spec.send);
    if (wantsResponse) {
      const read = await readResponse(opened.socket, { expect: spec.expect, maxBytes: MAX_ASSERTION_BODY_BYTES, signal: deadline.signal });
      response = read.text;
      firstByteMs = read.firstByteMs;
      const stopped = deadline.stopped();
      if (stopped) {
        findings.push(spec.expect === undefined ? stopped.finding : { ...stopped.finding, reason: `the response did not contain ${JSON.stringify(spec.expect)} within ${spec.timeoutMs} ms` });
        error = stopped.error;
      } else if (spec.expect !== undefined && read.ended !== "found") {
        const why = read.ended === "limit" ? `in its first ${MAX_ASSERTION_BODY_BYTES / 1024} KiB` : "before the server closed the connection";
        findings.push({ status: "down", reason: `the response did not contain ${JSON.stringify(spec.expect)} ${why}` });
      }
    }
  } catch (caught) {
    const failed = deadline.stopped() ?? connectionFailure(caught);
    findings.push(failed.finding);
    error = failed.error;
    const details = (caught as { details?: { timings?: ConnectionTimings; peerCertificate?: PeerCertificate } }).details;
    connectionTimings = details?.timings ?? connectionTimings;
    certificate ??= details?.peerCertificate;
  } finally {
    opened?.socket.destroy();
    deadline.release();
  }

  const now = (options.now ?? Date.now)();
  const timings = { ...connectionTimings, ...(firstByteMs === undefined ? {} : { firstByteMs }), totalMs: elapsedSince(started) };
  const observe: Observe = (subject) => {
    switch (parseSubject(subject).name) {
      case "responseTimeMs":
        return timings.totalMs;
      case "response":
        return response;
      case "certDaysRemaining":
        return certificate ? daysRemaining(certificate.validTo, now) : undefined;
    }
    return undefined;
  };
  const { verdicts, failures } = evaluateAssertions(spec.assertions, observe);
  findings.push(...assertionFindings(failures), ...slownessFinding(timings.totalMs, spec.degradedAfterMs));
  const detail: CheckResultDetail = {
    ...(error ? { error } : {}),
    ...(verdicts.length > 0 ? { assertions: verdicts } : {}),
    timings,
    ...(certificate ? { cert: certificateFacts(certificate, now) } : {}),
  };
  return resultOf(findings, detail, response ? { tcp: { response: response.slice(0, MAX_SHOWN_RESPONSE) } } : {});
}
