// One run's outcome as people read it: status, time, why it was not up, each assertion's
// expected and actual, and the timings — for "test before save", "run now" and recent failures.
import type { AssertionVerdict, CheckResultDetail, CheckRunStatus } from "@vantage/protocol";
import { Badge, type Tone } from "../../ui/components.tsx";

export const RUN_TONE: Record<CheckRunStatus, Tone> = { up: "ok", degraded: "warn", down: "bad", error: "idle" };

const show = (value: unknown): string => (value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value));

export function Assertions({ verdicts }: { verdicts: readonly AssertionVerdict[] }) {
  if (verdicts.length === 0) return null;
  return (
    <table className="list verdicts" aria-label="Assertions">
      <thead>
        <tr>
          <th scope="col">Assertion</th>
          <th scope="col">Expected</th>
          <th scope="col">Actual</th>
          <th scope="col">Verdict</th>
        </tr>
      </thead>
      <tbody>
        {verdicts.map((verdict) => (
          <tr key={verdict.path}>
            <td data-label="Assertion">
              <code>
                {verdict.subject} {verdict.op}
              </code>
            </td>
            <td data-label="Expected">
              <code>{show(verdict.expected)}</code>
            </td>
            <td data-label="Actual">
              <code>{show(verdict.actual)}</code>
            </td>
            <td data-label="Verdict">
              {verdict.pass ? (
                <Badge tone="ok">pass</Badge>
              ) : (
                <Badge tone={verdict.onFail === "degrade" ? "warn" : "bad"}>{verdict.onFail === "degrade" ? "degrades" : "fails"}</Badge>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface ProbeOutcomeProps {
  status: CheckRunStatus;
  durationMs: number;
  detail: CheckResultDetail | Record<string, unknown>;
  /** "core" or a satellite's name. */
  where?: string;
  startedAt?: string;
}

export function ProbeOutcome({ status, durationMs, detail, where, startedAt }: ProbeOutcomeProps) {
  const d = detail as CheckResultDetail;
  const timings = d.timings ? Object.entries(d.timings).filter(([key]) => key !== "totalMs") : [];
  return (
    <div className="probe-result" aria-label="Probe result">
      <div className="trace-head">
        <Badge tone={RUN_TONE[status]}>{status}</Badge>
        <span>{Math.round(durationMs)} ms</span>
        {where ? <span className="muted">from {where}</span> : null}
        {startedAt ? <span className="muted">{new Date(startedAt).toLocaleString()}</span> : null}
        {d.http ? <span className="muted">HTTP {d.http.statusCode}</span> : null}
      </div>
      {d.reason ? <p className="reason">{d.reason}</p> : null}
      {d.error ? (
        <p className="reason">
          <code>{d.error.code}</code> {d.error.message === d.reason ? null : d.error.message}
        </p>
      ) : null}
      {d.assertions ? <Assertions verdicts={d.assertions} /> : null}
      {timings.length > 0 ? (
        <p className="muted timings">{timings.map(([key, value]) => `${key.replace(/Ms$/, "")} ${Math.round(value as number)} ms`).join(" · ")}</p>
      ) : null}
      {d.cert ? (
        <p className="muted">
          Certificate expires {new Date(d.cert.expiresAt).toLocaleDateString()} ({d.cert.daysRemaining} days)
          {d.cert.issuer ? `, issued by ${d.cert.issuer}` : ""}
        </p>
      ) : null}
    </div>
  );
}
