// How a recorded change reads to a person: what changed (a check's health, a satellite's
// connection), from which status to which, why, who did it and what led to it. One place, so
// the overview's events feed and a check's history say it the same way.
import type { Actor, Cause } from "@vantage/protocol";
import type { HistoryChange } from "../../api/operations-client.ts";

export interface ChangeSummary {
  /** What it is about: "check" or "satellite" (else the entity kind). */
  subject: "check" | "satellite" | string;
  name: string;
  /** The status before (null when the change created the entity) and after (null when it was removed). */
  from: string | null;
  to: string | null;
  /** The health's reason, or the satellite's lifecycle edge. */
  reason: string | null;
  /** Whether the status itself changed (else: reason, locations or a field moved). */
  statusChanged: boolean;
}

const SUBJECTS: Record<string, string> = { "check-health": "check", "satellite-connection": "satellite" };

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

export function summarizeChange(change: HistoryChange): ChangeSummary {
  const state = change.next ?? change.prev ?? {};
  const from = text(change.prev?.status);
  const to = text(change.next?.status);
  const reason = change.kind === "satellite-connection" ? text(change.next?.lastEvent) : text(change.next?.reason);
  return {
    subject: SUBJECTS[change.kind] ?? change.kind,
    name: text(state.name) ?? change.id,
    from,
    to,
    reason: reason?.replace(/_/g, " ") ?? null,
    statusChanged: from !== to,
  };
}

const ACTOR_WORDS: Record<Actor["type"], string> = {
  system: "Vantage",
  user: "user",
  token: "API token",
  satellite: "satellite",
  automation: "automation",
};

/** "Vantage", "user ops@example.com", "automation restart-api"; `known` names ids the actor carries no name for (a satellite's own change). */
export function actorLabel(actor: Actor, known: Record<string, string> = {}): string {
  if (actor.type === "system") return actor.name ?? ACTOR_WORDS.system;
  return `${ACTOR_WORDS[actor.type]} ${actor.name ?? known[actor.id] ?? actor.id}`;
}

const CAUSE_WORDS: Record<string, string> = {
  "automation-run": "automation run",
  "api-request": "API request",
  "config.apply": "config apply",
  "check.result": "check result",
};

/** "API request 4f1c…", "config apply (commit abc123)"; null without a recorded cause. */
export function causeLabel(cause: Cause | null | undefined): string | null {
  if (!cause) return null;
  const what = CAUSE_WORDS[cause.type] ?? cause.type;
  return `${what} ${cause.id.slice(0, 8)}${cause.commit ? ` (commit ${cause.commit.slice(0, 12)})` : ""}`;
}
