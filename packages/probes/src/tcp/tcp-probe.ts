// The tcp probe: connect (optionally over TLS, verified), send `send` if given, and read the
// response when `expect` or an assertion needs it — until `expect` appears (bounded by
// MAX_ASSERTION_BODY_BYTES and the timeout) or, without `expect`, the first data.
import { type OpenedConnection } from "@vantage/outbound";
import { type CheckResultDetail, parseSubject, type TcpProbeSpec } from "@vantage/protocol";
import { type Observe, subjectNames } from "../assertions/evaluate-assertions.ts";
import { certificateFacts, daysRemaining } from "../certificate-facts.ts";
import { probeConnection } from "../probe-connection.ts";
import { probeDeadline } from "../probe-deadline.ts";
import { MAX_ASSERTION_BODY_BYTES } from "../probe-limits.ts";
import { elapsedSince, type Finding, judgeRun, type ProbeOptions, type ProbeResult } from "../probe-result.ts";
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
  let response: string | undefined;
  let firstByteMs: number | undefined;
  const tls = spec.tls ? { serverName: spec.serverName, verifyChain: true, verifyHostname: true } : undefined;
  const connection = await probeConnection({ ...spec, tls }, options, deadline, async (opened) => {
    if (spec.send !== undefined) await write(opened.socket, spec.send);
    if (!wantsResponse) return;
    const read = await readResponse(opened.socket, { expect: spec.expect, maxBytes: MAX_ASSERTION_BODY_BYTES, signal: deadline.signal });
    response = read.text;
    firstByteMs = read.firstByteMs;
    const stopped = deadline.stopped();
    if (stopped) {
      findings.push(
        spec.expect === undefined
          ? stopped.finding
          : { ...stopped.finding, reason: `the response did not contain ${JSON.stringify(spec.expect)} within ${spec.timeoutMs} ms` },
      );
      error = stopped.error;
    } else if (spec.expect !== undefined && read.ended !== "found") {
      const why = read.ended === "limit" ? `in its first ${MAX_ASSERTION_BODY_BYTES / 1024} KiB` : "before the server closed the connection";
      findings.push({ status: "down", reason: `the response did not contain ${JSON.stringify(spec.expect)} ${why}` });
    }
  });
  const certificate = connection.peerCertificate;
  if (connection.failure) {
    findings.push(connection.failure.finding);
    error = connection.failure.error;
  }

  const now = (options.now ?? Date.now)();
  const timings = { ...connection.timings, ...(firstByteMs === undefined ? {} : { firstByteMs }), totalMs: elapsedSince(started) };
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
  return judgeRun(findings, {
    spec,
    observe,
    timings,
    error,
    detail: certificate ? { cert: certificateFacts(certificate, now) } : {},
    onFailure: response ? { tcp: { response: response.slice(0, MAX_SHOWN_RESPONSE) } } : {},
  });
}
