// A run's trace, step by step: what triggered it (event, payload, the change), the verdict of
// each filter and condition, then every step in the order it started with its input, output
// or error, attempts and timing. An active run can be cancelled here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ACTIVE_RUN_STATUSES, api, type Step } from "../../api/client.ts";
import { Badge, ErrorMessage, Loading, PageHead, TimeAgo } from "../../ui/components.tsx";
import { formatDuration, formatExact } from "../../ui/time.ts";
import { RunStatus, statusTone } from "./run-status.tsx";
import { usePermissions } from "../../permissions.ts";

export function RunTrace({ automationId, runId }: { automationId: string; runId: string }) {
  const { canEdit } = usePermissions();
  const queryClient = useQueryClient();
  const trace = useQuery({ queryKey: ["automations", "run", automationId, runId], queryFn: ({ signal }) => api.automations.run(automationId, runId, signal) });
  const cancel = useMutation({
    mutationFn: () => api.automations.cancelRun(automationId, runId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["automations"] }),
  });
  const back = (
    <p>
      <Link to="/automations/$automationId" params={{ automationId }}>
        ← Automation
      </Link>
    </p>
  );
  if (trace.isPending) return <Loading what="the run" />;
  if (trace.error) {
    return (
      <>
        {back}
        <ErrorMessage error={trace.error} title="Could not load the run" />
      </>
    );
  }
  const { run, steps } = trace.data;
  const active = canEdit && ACTIVE_RUN_STATUSES.includes(run.status);
  return (
    <>
      {back}
      <PageHead
        title={
          <>
            Run <code>{run.id.slice(0, 8)}</code> <RunStatus status={run.status} />
          </>
        }
        sub={
          <>
            Started <TimeAgo at={run.startedAt ?? run.createdAt} />
            {run.finishedAt ? ` · took ${formatDuration(run.startedAt ?? run.createdAt, run.finishedAt)}` : ""} · automation version {run.automationVersion}
          </>
        }
        actions={
          <>
            <button type="button" onClick={() => void trace.refetch()} disabled={trace.isFetching}>
              Refresh
            </button>
            {active ? (
              <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                Cancel run
              </button>
            ) : null}
          </>
        }
      />
      <ErrorMessage error={cancel.error} title="Not cancelled" />
      {run.error ? <div className="error-box">{run.error}</div> : null}
      {run.stopReason ? <p>Stopped: {run.stopReason}</p> : null}

      <ol className="trace" aria-label="Trace">
        <li className="ok">
          <div className="trace-head">
            <strong>Trigger</strong> <code>{run.triggerEvent}</code>
            {run.contextKey ? <span className="muted">context {run.contextKey}</span> : null}
            <span className="muted" title={formatExact(run.createdAt)}>
              <TimeAgo at={run.createdAt} />
            </span>
          </div>
          {run.trigger.forMs ? <div className="muted">after matching for {Math.round(run.trigger.forMs / 1000)} s</div> : null}
          <Json label="Payload" value={run.trigger.payload} />
          {run.trigger.change ? <Json label="Change" value={run.trigger.change} /> : null}
        </li>
        {run.verdicts.map((verdict) => (
          <li key={verdict.path} className={verdict.passed ? "ok" : "bad"}>
            <div className="trace-head">
              <strong>Check</strong> <code>{verdict.path}</code> {verdict.passed ? <Badge tone="ok">passed</Badge> : <Badge tone="bad">failed</Badge>}
            </div>
          </li>
        ))}
        {steps.map((step) => (
          <StepItem key={step.path} step={step} />
        ))}
        {steps.length === 0 ? (
          <li>
            <span className="muted">{active ? "No step has started yet." : "No step ran."}</span>
          </li>
        ) : null}
      </ol>
    </>
  );
}

function StepItem({ step }: { step: Step }) {
  const tone = statusTone(step.status);
  return (
    <li className={tone}>
      <div className="trace-head">
        <strong>{step.kind}</strong> <code>{step.path}</code> <RunStatus status={step.status} />
        {step.attempts > 1 ? <span className="muted">{step.attempts} attempts</span> : null}
        <span className="muted">{formatDuration(step.startedAt, step.finishedAt) ?? (step.dueAt ? `due ${formatExact(step.dueAt)}` : "")}</span>
      </div>
      {step.error ? <div className="error-box">{step.error}</div> : null}
      {step.input !== null ? <Json label="Input" value={step.input} /> : null}
      {step.output !== null ? <Json label="Output" value={step.output} /> : null}
    </li>
  );
}

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <details>
      <summary>{label}</summary>
      <pre className="json">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}
