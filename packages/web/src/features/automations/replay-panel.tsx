// "Replay last 7 days" in the automation editor: replays the YAML as written (saved or not)
// over the recorded history of the last week, polls the job, and shows the would-be runs on a
// timeline with the runs and skips of each day. Nothing is run; the core only renders actions.
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, type ReplayResult } from "../../api/client.ts";
import { ErrorMessage } from "../../ui/components.tsx";

const WEEK_MS = 7 * 86_400_000;
const POLL_MS = 500;

export function ReplayPanel({ yaml, now = Date.now }: { yaml: string; now?: () => number }) {
  const starting = useMutation({
    mutationFn: () => {
      const to = now();
      return api.automations.replay(yaml, new Date(to - WEEK_MS).toISOString(), new Date(to).toISOString());
    },
  });
  const jobId = starting.data?.id;
  const job = useQuery({
    queryKey: ["replay", jobId],
    queryFn: ({ signal }) => api.automations.replayJob(jobId!, signal),
    enabled: jobId !== undefined,
    refetchInterval: (query) => (query.state.data?.status === "running" || query.state.data === undefined ? POLL_MS : false),
  });
  const current = job.data ?? starting.data;
  const running = starting.isPending || current?.status === "running";

  return (
    <section aria-label="Replay" style={{ marginTop: 16 }}>
      <button type="button" onClick={() => starting.mutate()} disabled={running}>
        {running ? `Replaying… ${Math.floor((current?.progress ?? 0) * 100)} %` : "Replay last 7 days"}
      </button>
      <ErrorMessage error={starting.error ?? job.error} title="Could not replay" />
      {current && current.status !== "running" && current.status !== "succeeded" ? (
        <div className="error-box" role="alert">
          The replay {current.status}
          {current.error ? `: ${current.error}` : ""}
        </div>
      ) : null}
      {current?.result ? <ReplayTimeline result={current.result} /> : null}
    </section>
  );
}

/** Would-be runs as ticks on one line from `from` to `to`, and the runs and skips of each day. */
export function ReplayTimeline({ result }: { result: ReplayResult }) {
  const from = Date.parse(result.from);
  const span = Math.max(1, Date.parse(result.to) - from);
  const skipped = Object.entries(result.skipsByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  return (
    <div className="card" style={{ marginTop: 8 }}>
      <p role="status">
        Would have run <strong>{result.runs}</strong> time(s) in the last 7 days; skipped {result.skips}
        {skipped ? ` (${skipped})` : ""}. {result.changes.toLocaleString()} recorded changes read.
      </p>
      <div
        role="img"
        aria-label={`Timeline of ${result.runs} would-be runs`}
        style={{ position: "relative", height: 24, borderBottom: "1px solid currentColor" }}
      >
        {result.listedRuns.map((run) => (
          <span
            key={run.id}
            data-testid="replay-run"
            title={`${run.at} · ${run.trigger.event} · ${run.entity.kind} ${run.entity.id}`}
            style={{
              position: "absolute",
              left: `${((Date.parse(run.at) - from) / span) * 100}%`,
              bottom: 0,
              width: 2,
              height: 20,
              background: "var(--accent, #3b82f6)",
            }}
          />
        ))}
      </div>
      <ul aria-label="Per day" className="muted" style={{ fontSize: 13 }}>
        {result.days.map((day) => (
          <li key={day.day}>
            {day.day}: {day.runs} run(s), {day.skips} skip(s)
          </li>
        ))}
      </ul>
      {result.gaps.map((gap) => (
        <p key={gap.from} className="muted">
          No recorded history from {gap.from} to {gap.to}.
        </p>
      ))}
      {result.truncated ? <p className="muted">Only the first runs are drawn.</p> : null}
    </div>
  );
}
