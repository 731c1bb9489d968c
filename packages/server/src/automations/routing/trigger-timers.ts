// `for:` durations as durable timers: a trigger whose filter matched starts a timer for its
// entity (a row plus a graphile-worker job due when the duration ends, in the router's
// transaction). A later change of that entity that emits a different event, or removes it,
// cancels the timer and records why; a timer that runs out fires the run decision.
import type pg from "pg";
import type { EntityRegistry, RoutedChange, SqlClient } from "../../entities/index.ts";
import type { Logger } from "../../log.ts";
import { withTransaction } from "../../storage/index.ts";
import { addTimerJob, removeTimerJob } from "../runs/automation-jobs.ts";
import type { AutomationIndex } from "./automation-index.ts";
import { type DecisionKey, insertSkip, type RunTrigger, type Verdict } from "../runs/automation-runs.ts";
import { entityReader } from "../definitions/entity-reader.ts";
import { evaluateMatch } from "./evaluate-match.ts";
import { type Decision, startRun } from "../runs/run-admission.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export interface PendingTimer {
  id: string;
  key: DecisionKey;
  entityKind: string;
  entityId: string;
  trigger: RunTrigger;
  verdicts: Verdict[];
  createdAt: string;
}

interface TimerRow {
  id: string;
  automation_id: string;
  automation_version: number;
  trigger_id: string;
  trigger_event: string;
  change_id: string;
  entity_kind: string;
  entity_id: string;
  trigger: RunTrigger;
  verdicts: Verdict[];
  created_at: Date;
}

const toTimer = (row: TimerRow): PendingTimer => ({
  id: row.id,
  key: {
    automationId: row.automation_id,
    automationVersion: row.automation_version,
    triggerId: row.trigger_id,
    triggerEvent: row.trigger_event,
    changeId: row.change_id,
  },
  entityKind: row.entity_kind,
  entityId: row.entity_id,
  trigger: row.trigger,
  verdicts: row.verdicts,
  createdAt: row.created_at.toISOString(),
});

const entityKey = (kind: string, id: string) => JSON.stringify([kind, id]);

/** The pending timers of the batch's entities, by entity: one query per batch. */
export async function timersOf(tx: SqlClient, batch: readonly RoutedChange[]): Promise<Map<string, PendingTimer[]>> {
  const { rows } = await tx.query<TimerRow>(
    `SELECT t.* FROM automation_trigger_timers t
     JOIN (SELECT DISTINCT kind, id FROM unnest($1::text[], $2::text[]) AS e (kind, id)) e ON t.entity_kind = e.kind AND t.entity_id = e.id
     ORDER BY t.created_at, t.id`,
    [batch.map((routed) => routed.change.kind), batch.map((routed) => routed.change.id)],
  );
  const byEntity = new Map<string, PendingTimer[]>();
  for (const timer of rows.map(toTimer)) {
    const key = entityKey(timer.entityKind, timer.entityId);
    byEntity.set(key, [...(byEntity.get(key) ?? []), timer]);
  }
  return byEntity;
}

/**
 * The timers a change cancels: it removes the entity, or its new state no longer matches the
 * trigger (`stillMatches`), or — for a trigger that does not say — it emits events and none
 * is the timer's (a change with no event, e.g. a rename, keeps it).
 */
export function contraryTimers(timers: ReadonlyMap<string, PendingTimer[]>, routed: RoutedChange, triggers: Pick<TriggerRegistry, "get">): PendingTimer[] {
  const pending = timers.get(entityKey(routed.change.kind, routed.change.id)) ?? [];
  const { next } = routed.change;
  if (next === null) return pending;
  return pending.filter((timer) => {
    const stillMatches = triggers.get(timer.key.triggerEvent)?.stillMatches;
    if (stillMatches) return !stillMatches(next);
    return routed.eventIds.length > 0 && !routed.eventIds.includes(timer.key.triggerEvent);
  });
}

/** Adds a timer started in this batch to the batch's view, so a later change of the batch can cancel it. */
export function rememberTimer(timers: Map<string, PendingTimer[]>, timer: PendingTimer): void {
  const key = entityKey(timer.entityKind, timer.entityId);
  timers.set(key, [...(timers.get(key) ?? []), timer]);
}

// Due when the duration has passed since the change occurred (not since it was routed), so a
// router that lagged does not stretch the duration. ON CONFLICT: a timer already counting for
// this trigger and entity keeps counting from its first match.
const START_TIMER = `
  WITH timer AS (
    INSERT INTO automation_trigger_timers (automation_id, automation_version, trigger_id, trigger_event, change_id, entity_kind, entity_id, trigger, verdicts, due_at)
    SELECT id, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::timestamptz + $11 * interval '1 millisecond' FROM automations WHERE id = $1
    ON CONFLICT (automation_id, trigger_id, entity_kind, entity_id) DO NOTHING
    RETURNING *)
  SELECT timer.*, ${addTimerJob("id", "due_at")} AS job FROM timer`;

/** Starts the trigger's timer for the change's entity; null if one was already counting. */
export async function startTimer(
  tx: SqlClient,
  key: DecisionKey,
  timer: { routed: RoutedChange; trigger: RunTrigger; verdicts: readonly Verdict[]; forMs: number },
): Promise<PendingTimer | null> {
  const { change } = timer.routed;
  const { rows } = await tx.query<TimerRow>(START_TIMER, [
    key.automationId,
    key.automationVersion,
    key.triggerId,
    key.triggerEvent,
    key.changeId,
    change.kind,
    change.id,
    JSON.stringify(timer.trigger),
    JSON.stringify(timer.verdicts),
    change.occurredAt,
    timer.forMs,
  ]);
  return rows[0] ? toTimer(rows[0]) : null;
}

/** Why a change cancelled a timer: how long the entity kept matching, and what it did then. */
export function forCancelledDetail(timer: Pick<PendingTimer, "key" | "trigger">, routed: RoutedChange): Record<string, unknown> {
  const heldMs = Date.parse(routed.change.occurredAt) - Date.parse(timer.trigger.change?.occurredAt ?? routed.change.occurredAt);
  const contrary =
    routed.change.next === null
      ? "the entity was removed"
      : routed.eventIds.length > 0
        ? `it emitted ${routed.eventIds.join(", ")}`
        : "its state no longer matches";
  return {
    message: `trigger "${timer.key.triggerId}" stopped matching after ${Math.max(0, heldMs) / 1000} s of its ${(timer.trigger.forMs ?? 0) / 1000} s: ${contrary}`,
    cancelledBy: routed.change.changeId,
  };
}

/** Cancels a timer (its job too, unless already running: that one finds no timer) and records the skip. */
export async function cancelTimer(tx: SqlClient, timer: PendingTimer, routed: RoutedChange): Promise<boolean> {
  const { rowCount } = await tx.query("DELETE FROM automation_trigger_timers WHERE id = $1", [timer.id]);
  if (rowCount !== 1) return false;
  await tx.query(`SELECT ${removeTimerJob("$1::uuid")}`, [timer.id]);
  await insertSkip(tx, timer.key, "for_cancelled", forCancelledDetail(timer, routed), timer.verdicts);
  return true;
}

export interface TimerFiringOptions {
  pool: pg.Pool;
  index: Pick<AutomationIndex, "lookup">;
  triggers: Pick<TriggerRegistry, "get">;
  entities: Pick<EntityRegistry, "entity">;
  logger: Logger;
  /** The clock conditions see, in epoch milliseconds. */
  now?: () => number;
  /** Observes decisions (tests, metrics), after they commit. */
  onDecision?: (decision: Decision) => void;
}

/**
 * Fires one timer: takes it (so it fires once, however many jobs run), evaluates the filter
 * and the conditions again against the state now, and decides the run under the mode.
 */
export function createTimerFiring(options: TimerFiringOptions): (timerId: string) => Promise<void> {
  const log = options.logger.child({ component: "trigger-timers" });
  const now = options.now ?? Date.now;
  return async (timerId) => {
    const decision = await withTransaction(options.pool, async (tx): Promise<Decision | undefined> => {
      const { rows } = await tx.query<TimerRow>("DELETE FROM automation_trigger_timers WHERE id = $1 RETURNING *", [timerId]);
      if (!rows[0]) return undefined; // cancelled, or fired by an earlier job
      const timer = toTimer(rows[0]);
      const match = options.index
        .lookup(timer.key.triggerEvent)
        .find((candidate) => candidate.automation.id === timer.key.automationId && candidate.trigger.id === timer.key.triggerId);
      if (!match) {
        // Disabled, or the trigger was edited away while the timer ran.
        const detail = { message: `trigger "${timer.key.triggerId}" is no longer routed (automation disabled or trigger removed)` };
        return {
          key: timer.key,
          outcome: "skip",
          reason: "automation_disabled",
          detail,
          recorded: await insertSkip(tx, timer.key, "automation_disabled", detail, timer.verdicts),
        };
      }
      const key: DecisionKey = { ...timer.key, automationVersion: match.automation.version };
      const payload = timer.trigger.payload;
      const context = {
        trigger: { id: timer.key.triggerId, event: timer.key.triggerEvent, payload },
        vars: {},
        entity: entityReader(options.entities),
        now: now(),
      };
      const verdict = await evaluateMatch(match, context);
      if (!verdict.passed) {
        return {
          key,
          outcome: "skip",
          reason: verdict.reason,
          detail: verdict.detail,
          recorded: await insertSkip(tx, key, verdict.reason, verdict.detail, verdict.verdicts),
        };
      }
      const { definition } = match.automation.compiled;
      const contextKey = definition.concurrency === "context" ? (options.triggers.get(timer.key.triggerEvent)?.contextKey(payload) ?? null) : null;
      return startRun(tx, key, { policy: definition, contextKey, trigger: timer.trigger, verdicts: verdict.verdicts });
    });
    if (decision) {
      log.debug({ timerId, outcome: decision.outcome }, "a `for:` timer ran out");
      options.onDecision?.(decision);
    }
  };
}
