// The dns probe: one query to `server` (the system's first nameserver when absent) over UDP —
// repeated over TCP when the answer comes back truncated — or over TCP, with dns-packet,
// since Node's resolver can neither force TCP nor show an rcode. The rcode must be one of
// `expectRcode`; the answers of the asked type are rendered as text for the assertions
// (`answers` is a list subject: `contains` passes when some answer contains the value, `eq`
// when some answer equals it, `matches` when some answer matches, `ne` when none equals it).
import { randomInt } from "node:crypto";
import { getServers } from "node:dns";
import { isIP } from "node:net";
import { encode, RECURSION_DESIRED } from "dns-packet";
import { type ResolvedAddress, resolveAddresses } from "@vantage/outbound";
import { type CheckResultDetail, type DnsProbeSpec, parseSubject } from "@vantage/protocol";
import { type Observe } from "../assertions/evaluate-assertions.ts";
import { connectionFailure } from "../connection-failures.ts";
import { probeDeadline } from "../probe-deadline.ts";
import { elapsedSince, type Finding, judgeRun, type ProbeOptions, type ProbeResult } from "../probe-result.ts";
import { type DnsAnswer, MalformedAnswer, queryOverTcp, queryOverUdp } from "./dns-exchange.ts";
import { renderAnswer, reverseName } from "./render-answer.ts";

/** How many answers, and how much of each, a result carries (assertions see them whole). */
const MAX_SHOWN_ANSWERS = 50;
const MAX_SHOWN_ANSWER_LENGTH = 300;

/** This machine has no resolver to ask: the probe cannot run (not the target's fault). */
class NoResolver extends Error {}

/** `1.2.3.4`, `1.2.3.4:5353`, `::1` or `[::1]:5353`, as `dns.getServers()` lists them. */
function systemServer(): { host: string; port?: number } | undefined {
  const first = getServers()[0];
  if (first === undefined) return undefined;
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(first);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(first);
  if (withPort) return { host: withPort[1]!, port: Number(withPort[2]) };
  return { host: first };
}

/**
 * Where to send the query. A server the check names is judged by the address policy like any
 * target; the system's own resolver is the operator's choice and is not (in a cloud it often
 * sits at a link-local address, which the core's policy refuses for targets).
 */
async function serverOf(spec: DnsProbeSpec, options: ProbeOptions): Promise<{ server: ResolvedAddress; port: number; dnsMs?: number }> {
  const started = performance.now();
  if (spec.server !== undefined) {
    const { addresses, looked } = await resolveAddresses(spec.server, undefined, options.addressPolicy);
    return { server: addresses[0]!, port: spec.port, ...(looked ? { dnsMs: elapsedSince(started) } : {}) };
  }
  const system = systemServer();
  if (!system) throw new NoResolver("this machine has no DNS server configured: set the check's server");
  const family = isIP(system.host);
  return { server: { address: system.host, family: family === 6 ? 6 : 4 }, port: system.port ?? spec.port };
}

function rcodeOf(answer: DnsAnswer): string {
  // dns-packet decodes the rcode's name; its types leave it out.
  return (answer.packet as { rcode?: string }).rcode ?? `RCODE${(answer.packet.flags ?? 0) & 0xf}`;
}

export async function probeDns(spec: DnsProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = probeDeadline(options.signal, spec.timeoutMs);
  const findings: Finding[] = [];
  let error: CheckResultDetail["error"];
  let answer: DnsAnswer | undefined;
  let dnsMs: number | undefined;
  try {
    const target = await serverOf(spec, options);
    dnsMs = target.dnsMs;
    const id = randomInt(0, 65_536);
    const query = encode({
      type: "query",
      id,
      flags: RECURSION_DESIRED,
      questions: [{ type: spec.recordType, name: spec.recordType === "PTR" ? reverseName(spec.queryName) : spec.queryName }],
    });
    answer =
      spec.protocol === "tcp"
        ? await queryOverTcp(target.server, target.port, query, id, deadline.signal)
        : await queryOverUdp(target.server, target.port, query, id, deadline.signal);
    // Too big for a datagram: the server says so, and the whole answer is one TCP query away.
    if (answer.packet.flag_tc && spec.protocol === "udp") answer = await queryOverTcp(target.server, target.port, query, id, deadline.signal);
  } catch (caught) {
    const failed = deadline.stopped() ?? failureOf(caught);
    findings.push(failed.finding);
    error = failed.error;
  } finally {
    deadline.release();
  }

  const rcode = answer ? rcodeOf(answer) : undefined;
  if (rcode !== undefined && !spec.expectRcode.includes(rcode as (typeof spec.expectRcode)[number])) {
    findings.push({ status: "down", reason: `expected rcode ${spec.expectRcode.join(" or ")}, got ${rcode}` });
  }
  const answers = (answer?.packet.answers ?? []).filter((record) => record.type === spec.recordType).flatMap((record) => renderAnswer(record) ?? []);
  const timings = {
    ...(dnsMs === undefined ? {} : { dnsMs }),
    ...(answer?.connectMs === undefined ? {} : { connectMs: answer.connectMs }),
    ...(answer ? { firstByteMs: answer.firstByteMs } : {}),
    totalMs: elapsedSince(started),
  };
  const observe: Observe = (subject) => {
    switch (parseSubject(subject).name) {
      case "rcode":
        return rcode;
      case "answers":
        return answer ? answers : undefined;
      case "responseTimeMs":
        return timings.totalMs;
    }
    return undefined;
  };
  return judgeRun(findings, {
    spec,
    observe,
    timings,
    error,
    detail:
      rcode === undefined
        ? {}
        : {
            dns: {
              rcode,
              answers: answers
                .slice(0, MAX_SHOWN_ANSWERS)
                .map((text) => (text.length > MAX_SHOWN_ANSWER_LENGTH ? `${text.slice(0, MAX_SHOWN_ANSWER_LENGTH - 1)}…` : text)),
            },
          },
  });
}

function failureOf(caught: unknown): ReturnType<typeof connectionFailure> {
  if (caught instanceof MalformedAnswer)
    return { finding: { status: "down", reason: caught.message }, error: { code: "dns_malformed", message: caught.message } };
  if (caught instanceof NoResolver) return { finding: { status: "error", reason: caught.message }, error: { code: "no_resolver", message: caught.message } };
  return connectionFailure(caught);
}
