// The public face of @vantage/probes: the one probe library the core and the satellite agent
// both run, so a check behaves the same wherever it runs. runProbe dispatches by type; each
// type's probe and the assertion evaluator are here too.
export { runProbe, PROBES } from "./run-probe.ts";
export type { ProbeOptions, ProbeResult } from "./probe-result.ts";
export { probeHttp } from "./http/http-probe.ts";
export { probeTcp } from "./tcp/tcp-probe.ts";
export { probeDns } from "./dns/dns-probe.ts";
export { probeTls } from "./tls/tls-probe.ts";
export { evaluateAssertions } from "./assertions/evaluate-assertions.ts";
export type { AssertionFailure, AssertionsOutcome, Observe } from "./assertions/evaluate-assertions.ts";
export { MAX_ASSERTION_BODY_BYTES } from "./probe-limits.ts";
export { watchLoopStall, timedOutResult, OVERLOADED_SHARE } from "./loop-stall.ts";
export type { StallWatch } from "./loop-stall.ts";
export { coreAddressPolicy } from "./core-address-policy.ts";
