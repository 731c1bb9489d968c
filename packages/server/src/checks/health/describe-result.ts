// A result's problem in a few words, for the health reason ("eu-1 (status 503, expected 2xx)"):
// read from the result's detail (the assertion verdicts, the error, the probe's reason), never
// from the whole response.
import type { AssertionVerdict, CheckResultDetail } from "@vantage/protocol";

/** The longest problem kept per location; a reason names several. */
export const MAX_PROBLEM_LENGTH = 120;

const EXPECTED_STATUS = /^expected status (.+), got (\d{3})$/;

/** Seconds as people write them: "10 s", "2.5 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** One value of a verdict, as short JSON ("503", "\"down\""). */
function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function verdictProblem(verdict: AssertionVerdict): string {
  const expected = verdict.op === "exists" ? `${verdict.subject} to exist` : `${verdict.op} ${shown(verdict.expected)}`;
  return verdict.op === "exists" ? `expected ${expected}` : `${verdict.subject} ${shown(verdict.actual)}, expected ${expected}`;
}

/**
 * What went wrong in a result that was not up, most specific first: a timeout (with the
 * check's timeout), an unexpected HTTP status, the first failed assertion of the result's own
 * severity, an exchange error by its code, the probe's reason; else the bare status.
 */
export function describeResult(
  status: "up" | "degraded" | "down" | "error",
  detail: CheckResultDetail | Record<string, unknown>,
  timeoutMs: number,
): string | null {
  if (status === "up") return null;
  const { error, reason, assertions } = detail as CheckResultDetail;
  const problem = (() => {
    if (error?.code === "timeout") return `timeout ${formatSeconds(timeoutMs)}`;
    const expectedStatus = typeof reason === "string" ? EXPECTED_STATUS.exec(reason) : null;
    if (expectedStatus) return `status ${expectedStatus[2]}, expected ${expectedStatus[1]}`;
    const severity = status === "degraded" ? "degrade" : "fail";
    const failed = Array.isArray(assertions) ? assertions.find((verdict) => !verdict.pass && verdict.onFail === severity) : undefined;
    if (failed) return verdictProblem(failed);
    if (typeof error?.code === "string" && error.code !== "") return error.code.replaceAll("_", " ");
    if (typeof reason === "string" && reason !== "") return reason;
    return status;
  })();
  return problem.length > MAX_PROBLEM_LENGTH ? `${problem.slice(0, MAX_PROBLEM_LENGTH - 1)}…` : problem;
}
