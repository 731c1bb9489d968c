// The automation engine's sink of the entity router (stage 1: deciding, not executing).
// For each routed change and each of its event ids it looks the listening triggers up in
// the in-memory index, validates the payload, evaluates the trigger's filter and then the
// automation's conditions in order, and records either a pending run or a skip with its
// reason — through the router's transaction, keyed (automation, trigger, change), so a
// redelivered change decides nothing twice.
import type { ChangeSink, EntityRegistry, RoutedChange, SqlClient } from "../entities/index.ts";
import type { Logger } from "../log.ts";
import type { AutomationIndex, IndexedTrigger } from "./automation-index.ts";
import { entityReader } from "./entity-reader.ts";
import { type DecisionKey, insertRun, insertSkip, type RunTrigger } from "./automation-runs.ts";
import type { EvaluationContext } from "./expressions/index.ts";
import { wakeWaitingRuns } from "./run-waits.ts";
import type { TriggerRegistry } from "./trigger-registry.ts";

export const AUTOMATION_SINK_NAME = "automations";

export interface AutomationSinkOptions {
  index: Pick<AutomationIndex, "lookup">;
  triggers: Pick<TriggerRegistry, "get">;
  /** `entity(kind, id)` in filters and conditions reads current state through these handles. */
  entities: Pick<EntityRegistry, "entity">;
  logger: Logger;
  /** Observes decisions (tests, metrics). */
  onDecision?: (decision: Decision) => void;
}

export type Decision =
  | { key: DecisionKey; outcome: "run"; contextKey: string | null; recorded: boolean }
  | { key: DecisionKey; outcome: "skip"; reason: string; detail: Record<string, unknown>; recorded: boolean };

type Verdict = { run: true } | { run: false; reason: "filter_false" | "condition_false"; detail: Record<string, unknown> };

async function evaluate(match: IndexedTrigger, context: EvaluationContext): Promise<Verdict> {
  if (match.trigger.filter && !(await match.trigger.filter(context))) {
    return { run: false, reason: "filter_false", detail: { message: `the filter of trigger "${match.trigger.id}" is false` } };
  }
  const conditions = match.automation.compiled.conditions;
  for (let index = 0; index < conditions.length; index++) {
    if (!(await conditions[index]!(context))) {
      return { run: false, reason: "condition_false", detail: { condition: index, path: `conditions.${index}`, message: `condition ${index + 1} false` } };
    }
  }
  return { run: true };
}

export function createAutomationSink(options: AutomationSinkOptions): ChangeSink {
  const { index, triggers, entities } = options;
  const log = options.logger.child({ component: "automation-sink" });

  const decide = async (routed: RoutedChange, eventId: string, matches: readonly IndexedTrigger[], tx: SqlClient) => {
    const { change } = routed;
    const definition = triggers.get(eventId);
    const parsed = definition?.payloadSchema.safeParse(routed.payload);
    const entity = entityReader(entities);
    for (const match of matches) {
      const key: DecisionKey = {
        automationId: match.automation.id,
        automationVersion: match.automation.version,
        triggerId: match.trigger.id,
        triggerEvent: eventId,
        changeId: change.changeId,
      };
      const skip = async (reason: "filter_false" | "condition_false" | "invalid_payload", detail: Record<string, unknown>) => {
        const recorded = await insertSkip(tx, key, reason, detail);
        options.onDecision?.({ key, outcome: "skip", reason, detail, recorded });
      };
      if (!definition || !parsed?.success) {
        const issues = parsed?.success === false ? parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) : [];
        log.warn({ eventId, changeId: change.changeId, issues }, "a routed payload does not match its trigger's schema");
        await skip("invalid_payload", { message: definition ? `the payload does not match the schema of ${eventId}` : `no trigger ${eventId} is registered`, issues });
        continue;
      }
      const payload = parsed.data;
      // `now` is when the change occurred, so a redelivered change is decided the same way.
      const context: EvaluationContext = { trigger: { id: match.trigger.id, event: eventId, payload }, vars: {}, entity, now: Date.parse(change.occurredAt) };
      const verdict = await evaluate(match, context);
      if (!verdict.run) {
        await skip(verdict.reason, verdict.detail);
        continue;
      }
      const contextKey = match.automation.compiled.definition.concurrency === "context" ? definition.contextKey(payload) : null;
      const trigger: RunTrigger = {
        event: eventId,
        triggerId: match.trigger.id,
        payload,
        forMs: match.trigger.forMs,
        change: { changeId: change.changeId, seq: change.seq, kind: change.kind, id: change.id, occurredAt: change.occurredAt },
      };
      const recorded = await insertRun(tx, key, { contextKey, trigger });
      options.onDecision?.({ key, outcome: "run", contextKey, recorded });
    }
  };

  return {
    name: AUTOMATION_SINK_NAME,
    async deliver(batch, tx) {
      await wakeWaitingRuns(batch, tx);
      for (const routed of batch) {
        for (const eventId of routed.eventIds) {
          const matches = index.lookup(eventId);
          if (matches.length > 0) await decide(routed, eventId, matches, tx);
        }
      }
    },
  };
}
