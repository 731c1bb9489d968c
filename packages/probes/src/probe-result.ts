// What every probe hands back, and how its findings become one status: `error` when the probe
// could not run (our side's fault), else `down` when the target failed, else `degraded`
// (slow, or a `degrade` assertion failed), else `up`. The first finding of the winning kind
// is the reason a user reads.
import type { AddressPolicy, OutboundClient } from "@vantage/outbound";
import type { Assertion, CheckResultDetail, CheckRunStatus } from "@vantage/protocol";
import { type AssertionFailure, evaluateAssertions, type Observe } from "./assertions/evaluate-assertions.ts";
import { boundedDetail } from "./bounded-detail.ts";

export interface ProbeOptions {
  /** Aborting stops the probe at once (the run was cancelled); the spec's timeout is the probe's own. */
  signal: AbortSignal;
  /** The one outbound client (its User-Agent is the process's). */
  outbound: OutboundClient;
  /** Judges every address a target resolves to; the core refuses link-local and metadata addresses with it. */
  addressPolicy?: AddressPolicy;
  /** Milliseconds since the epoch, for certificate days; default Date.now. */
  now?: () => number;
}

export interface ProbeResult {
  status: CheckRunStatus;
  detail: CheckResultDetail;
}

/** One thing that makes a run less than up. */
export interface Finding {
  status: Exclude<CheckRunStatus, "up">;
  reason: string;
}

// What a result's `reason` may hold (checkResultDetailSchema).
const MAX_REASON_LENGTH = 1_000;

const SEVERITY: Record<Finding["status"], number> = { error: 3, down: 2, degraded: 1 };

/** The status the findings add up to and the reason to show: the first finding of the worst kind. */
export function settle(findings: readonly Finding[]): { status: CheckRunStatus; reason?: string } {
  let worst: Finding | undefined;
  for (const finding of findings) if (!worst || SEVERITY[finding.status] > SEVERITY[worst.status]) worst = finding;
  if (!worst) return { status: "up" };
  return { status: worst.status, reason: worst.reason.length > MAX_REASON_LENGTH ? `${worst.reason.slice(0, MAX_REASON_LENGTH - 1)}…` : worst.reason };
}

/** Failed assertions as findings: `fail` → down, `degrade` → degraded. */
export function assertionFindings(failures: readonly AssertionFailure[]): Finding[] {
  return failures.map((failure) => ({ status: failure.onFail === "fail" ? "down" : "degraded", reason: failure.description }));
}

/** Slower than `degradedAfterMs` (total time) → degraded. */
export function slownessFinding(totalMs: number, degradedAfterMs: number | undefined): Finding[] {
  if (degradedAfterMs === undefined || totalMs <= degradedAfterMs) return [];
  return [{ status: "degraded", reason: `slower than ${degradedAfterMs} ms (took ${Math.round(totalMs)} ms)` }];
}

/**
 * The result of a run: its findings settled into a status and reason, `detail` with them, and
 * `onFailure` (an excerpt of what the target sent) only when the run is not up — whole
 * answers never leave the probe, and a healthy run's never do at all. Bounded in size.
 */
export function resultOf(findings: readonly Finding[], detail: CheckResultDetail, onFailure: Partial<CheckResultDetail> = {}): ProbeResult {
  const { status, reason } = settle(findings);
  return { status, detail: boundedDetail({ ...(reason === undefined ? {} : { reason }), ...detail, ...(status === "up" ? {} : onFailure) }) };
}

/** Milliseconds since a `performance.now()`, to a tenth. */
export function elapsedSince(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** What every probe ends with: what it observed, how long it took, and its own part of the detail. */
export interface ProbeOutcome {
  spec: { assertions: readonly Assertion[]; degradedAfterMs?: number };
  observe: Observe;
  timings: CheckResultDetail["timings"] & { totalMs: number };
  error?: CheckResultDetail["error"];
  /** The probe type's own detail (`dns`, `cert`, `http`). */
  detail?: Partial<CheckResultDetail>;
  /** What a run that is not up carries besides (resultOf's `onFailure`). */
  onFailure?: Partial<CheckResultDetail>;
}

/** The end all probes share: the assertions judged on what the run observed, slowness, and the result. */
export function judgeRun(findings: Finding[], outcome: ProbeOutcome): ProbeResult {
  const { verdicts, failures } = evaluateAssertions(outcome.spec.assertions, outcome.observe);
  findings.push(...assertionFindings(failures), ...slownessFinding(outcome.timings.totalMs, outcome.spec.degradedAfterMs));
  const detail: CheckResultDetail = {
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(verdicts.length > 0 ? { assertions: verdicts } : {}),
    timings: outcome.timings,
    ...outcome.detail,
  };
  return resultOf(findings, detail, outcome.onFailure);
}
