// Runs one probe spec, whatever its type: the dispatch table from check type to probe, and the
// guarantee every caller (the core's scheduler, the agent) relies on — runProbe never throws;
// a probe that breaks reports `error` with what broke, and a timeout this process caused (its
// event loop stalled) is `error` too, never the target's `down` (loop-stall.ts).
import type { CheckType, ProbeSpec } from "@vantage/protocol";
import { probeDns } from "./dns/dns-probe.ts";
import { probeHttp } from "./http/http-probe.ts";
import { judgeTimeout, watchLoopStall } from "./loop-stall.ts";
import type { ProbeOptions, ProbeResult } from "./probe-result.ts";
import { probeTcp } from "./tcp/tcp-probe.ts";
import { probeTls } from "./tls/tls-probe.ts";

type ProbeOf<T extends CheckType> = (spec: Extract<ProbeSpec, { type: T }>, options: ProbeOptions) => Promise<ProbeResult>;

/** The probe of each check type: the types a process can run. */
export const PROBES: { [T in CheckType]: ProbeOf<T> } = { http: probeHttp, tcp: probeTcp, dns: probeDns, tls: probeTls };

export async function runProbe(spec: ProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  const probe = PROBES[spec.type] as ProbeOf<CheckType>;
  const stall = watchLoopStall();
  try {
    return judgeTimeout(await probe(spec, options), spec.timeoutMs, stall.stalledMs());
  } catch (error) {
    // A bug, not the target's failure: say what broke so it can be reported.
    const message = `the ${spec.type} probe failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1_000);
    return { status: "error", detail: { reason: message, error: { code: "probe_error", message } } };
  } finally {
    stall.release();
  }
}
