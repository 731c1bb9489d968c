// The http probe: one request through the outbound client (TLS, IP family, redirects, the
// address policy and phase timings are the client's), judged by `expectStatus`, the
// assertions and `degradedAfterMs`. At most MAX_ASSERTION_BODY_BYTES of the body are read,
// and only when an assertion looks at it; a failed run carries an excerpt of at most 4 KiB.
import type { OutboundFailure, OutboundResult } from "@vantage/outbound";
import { type CheckResultDetail, type HttpProbeSpec, MAX_EXCERPT_BYTES, parseSubject } from "@vantage/protocol";
import { subjectNames } from "../assertions/evaluate-assertions.ts";
import { parseJsonPath, readJsonPath } from "../assertions/json-path.ts";
import { excerptOf } from "../bounded-detail.ts";
import { certificateFacts, daysRemaining } from "../certificate-facts.ts";
import { ipFamilyOf, MAX_ASSERTION_BODY_BYTES } from "../probe-limits.ts";
import { elapsedSince, type Finding, judgeRun, type ProbeOptions, type ProbeResult } from "../probe-result.ts";
import { describeExpectedStatus, statusExpected } from "./expected-status.ts";

/** The answer, when the target answered (any status); undefined when the exchange failed before. */
interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  body: string;
  url: string;
}

function answerOf(result: OutboundResult): Answer | undefined {
  if (result.ok) return result;
  if (result.kind === "status" && result.status !== undefined && "headers" in result && result.url !== undefined) {
    const { status, body, url } = result;
    // Read through: the client builds the headers only when asked (a header assertion).
    return {
      status,
      get headers() {
        return result.headers!;
      },
      body: body ?? "",
      url,
    };
  }
  return undefined;
}

/** Why an exchange that got no answer failed: the finding and the stable error code. */
function exchangeFailure(failure: OutboundFailure): { finding: Finding; code: string } {
  const down = (code: string) => ({ finding: { status: "down" as const, reason: failure.message }, code });
  const ours = (code: string) => ({ finding: { status: "error" as const, reason: failure.message }, code });
  switch (failure.kind) {
    case "invalid_request":
      return ours("invalid_config");
    case "address_refused":
      return ours("address_refused");
    case "cancelled":
      return ours("cancelled");
    case "timeout":
      return down("timeout");
    case "redirect_limit":
      return down("too_many_redirects");
    case "redirect":
      return down("redirect");
    case "status":
      return down("status");
    case "network":
      if (failure.phase === "dns") return down("dns");
      if (failure.phase === "tls") return down("tls");
      if (failure.phase === "connect") return down(failure.code === "ECONNREFUSED" ? "connection_refused" : "connect");
      return down(failure.code === "ECONNRESET" ? "connection_reset" : "network");
  }
}

function readsBody(spec: HttpProbeSpec): boolean {
  const names = subjectNames(spec.assertions);
  return names.has("body") || names.has("json");
}

export async function probeHttp(spec: HttpProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const result = await options.outbound.request({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    timeoutMs: spec.timeoutMs,
    signal: options.signal,
    redirect: spec.followRedirects ? { follow: spec.maxRedirects } : "answer",
    maxBodyBytes: readsBody(spec) ? MAX_ASSERTION_BODY_BYTES : MAX_EXCERPT_BYTES,
    tls: spec.tls,
    ipFamily: ipFamilyOf(spec.ipFamily),
    addressPolicy: options.addressPolicy,
  });
  const now = (options.now ?? Date.now)();
  const timings = { ...result.timings, totalMs: result.timings?.totalMs ?? elapsedSince(started) };
  const answer = answerOf(result);
  const certificate = result.peerCertificate;

  const findings: Finding[] = [];
  let error: CheckResultDetail["error"];
  if (!answer && !result.ok) {
    const failed = exchangeFailure(result);
    findings.push(failed.finding);
    error = { code: failed.code, message: result.message.slice(0, 1_000) };
  } else if (answer && !statusExpected(spec.expectStatus, answer.status)) {
    findings.push({ status: "down", reason: `expected status ${describeExpectedStatus(spec.expectStatus)}, got ${answer.status}` });
  }

  let json: { value: unknown } | undefined;
  const body = answer?.body;
  const statusCode = answer?.status ?? (result.ok ? undefined : result.status);
  const redirects = result.redirects ?? 0;
  return judgeRun(findings, {
    spec,
    // A method, not a named arrow: the runtime (tsx, with esbuild's keepNames) names each one it makes, one per run.
    observe(subject) {
      const { name, argument } = parseSubject(subject);
      switch (name) {
        case "status":
          return answer?.status;
        case "responseTimeMs":
          return timings.totalMs;
        case "header":
          return answer?.headers.get(argument!) ?? undefined;
        case "body":
          return answer?.body;
        case "json": {
          if (!answer) return undefined;
          json ??= parseJson(answer.body);
          const steps = parseJsonPath(argument!);
          return json && steps ? readJsonPath(json.value, steps) : undefined;
        }
        case "certDaysRemaining":
          return certificate ? daysRemaining(certificate.validTo, now) : undefined;
      }
      return undefined;
    },
    timings,
    error,
    detail: {
      ...(statusCode === undefined ? {} : { http: { statusCode, ...(redirects > 0 && answer ? { url: answer.url.slice(0, 2_100), redirects } : {}) } }),
      ...(certificate ? { cert: certificateFacts(certificate, now) } : {}),
    },
    // Read only for a run that is not up: a healthy run's body is never cut into an excerpt.
    onFailure: body
      ? {
          get excerpt() {
            return excerptOf(body);
          },
        }
      : {},
  });
}

function parseJson(body: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(body) as unknown };
  } catch {
    return undefined;
  }
}
