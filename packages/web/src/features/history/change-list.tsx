// A list of recorded changes, newest first: when, what (a check or a satellite, linked), the
// status it went from and to, why, who did it and what led to it, and the automation runs it
// started (linked to their traces) or the skips it recorded with their reasons.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api, type CheckHealthStatus } from "../../api/client.ts";
import type { HistoryChange } from "../../api/operations-client.ts";
import { Badge, type Tone, TimeAgo } from "../../ui/components.tsx";
import { STATUS_TONE } from "../checks/check-status.tsx";
import { actorLabel, causeLabel, summarizeChange } from "./describe-change.ts";

const TONES: Record<string, Tone> = { ...STATUS_TONE, online: "ok", offline: "bad" };

function StatusBadge({ status }: { status: string | null }) {
  return status === null ? <span className="muted">—</span> : <Badge tone={TONES[status as CheckHealthStatus] ?? "idle"}>{status}</Badge>;
}

function Subject({ change, name }: { change: HistoryChange; name: string }) {
  if (change.kind === "check-health") {
    return (
      <Link to="/checks/$checkId" params={{ checkId: change.id }}>
        {name}
      </Link>
    );
  }
  if (change.kind === "satellite-connection") {
    return (
      <Link to="/satellites/$satelliteId" params={{ satelliteId: change.id }}>
        {name}
      </Link>
    );
  }
  return <span>{name}</span>;
}

export function ChangeList({ changes, label, withSubject }: { changes: readonly HistoryChange[]; label: string; withSubject: boolean }) {
  // Names of the automations a change started: the list is small and cached by the Automations screens too.
  const automations = useQuery({ queryKey: ["automations", "list"], queryFn: ({ signal }) => api.automations.list(signal), staleTime: 60_000 });
  const automationName = (automationId: string) => automations.data?.automations.find((a) => a.id === automationId)?.name ?? "an automation";
  return (
    <ol className="events" aria-label={label}>
      {changes.map((change) => {
        const summary = summarizeChange(change);
        const cause = causeLabel(change.cause);
        return (
          <li key={change.changeId}>
            <div className="event-head">
              <span className="muted event-time">
                <TimeAgo at={change.occurredAt} />
              </span>
              {withSubject ? (
                <span className="event-subject">
                  <span className="muted">{summary.subject}</span> <Subject change={change} name={summary.name} />
                </span>
              ) : null}
              <span className="event-status">
                {summary.statusChanged ? (
                  <>
                    <StatusBadge status={summary.from} /> → <StatusBadge status={summary.to} />
                  </>
                ) : (
                  <>
                    <StatusBadge status={summary.to} /> <span className="muted">({change.changedFields.join(", ") || "no field"} changed)</span>
                  </>
                )}
              </span>
            </div>
            {summary.reason ? <div className="event-reason">{summary.reason}</div> : null}
            <div className="muted event-meta">
              by {actorLabel(change.actor, { [change.id]: summary.name })}
              {cause ? ` · cause: ${cause}` : ""}
            </div>
            {change.caused.runs.length + change.caused.skips.length > 0 ? (
              <ul className="event-caused" aria-label="Automations it fired">
                {change.caused.runs.map((run) => (
                  <li key={run.id}>
                    started{" "}
                    <Link to="/automations/$automationId/runs/$runId" params={{ automationId: run.automationId, runId: run.id }}>
                      {automationName(run.automationId)}
                    </Link>{" "}
                    <span className="muted">
                      ({run.event}, {run.status})
                    </span>
                  </li>
                ))}
                {change.caused.skips.map((skip) => (
                  <li key={skip.id}>
                    skipped{" "}
                    <Link to="/automations/$automationId" params={{ automationId: skip.automationId }}>
                      {automationName(skip.automationId)}
                    </Link>{" "}
                    <span className="muted">({skip.reason.replace(/_/g, " ")})</span>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
