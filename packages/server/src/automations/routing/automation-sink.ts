// The automation engine's sink of the entity router: it decides, the executor executes.
// For each routed change it first cancels the `for:` timers the change contradicts, then,
// for each of its event ids, looks the listening triggers up in the in-memory index,
// validates the payload, evaluates the trigger's filter and the automation's conditions,
// and records a run (under the automation's mode), a `for:` timer, or a skip with its
// reason — all in the router's transaction, keyed by (automation, trigger, change), so a
// redelivered change decides nothing twice.
import { type ChangeSink, type EntityRegistry, type RoutedChange, settledInOrder, type SqlClient } from "../../entities/index.ts";
import type { Logger } from "../../log.ts";
import type { AutomationIndex, IndexedTrigger } from "./automation-index.ts";
import { type DecisionKey, insertSkip } from "../runs/automation-runs.ts";
import { entityReader } from "../definitions/entity-reader.ts";
import { type CheckedPayload, checkPayload, judgeMatch } from "./judge-match.ts";
import { type Decision, startRun } from "../runs/run-admission.ts";
import { wakeWaitingRuns } from "../runs/run-waits.ts";
import { cancelTimer, contraryTimers, type PendingTimer, rememberTimer, startTimer, timersOf } from "./trigger-timers.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export const AUTOMATION_SINK_NAME = "automations";

export interface AutomationSinkOptions {
  index: Pick<AutomationIndex, "lookup">;
  triggers: Pick<TriggerRegistry, "get">;
  /** `entity(kind, id)` in filters and conditions reads current state through these handles. */
  entities: Pick<EntityRegistry, "entity">;
  logger: Logger;
  /** Observes decisions (tests, metrics); called inside the router's transaction, before it commits. */
  onDecision?: (decision: SinkDecision) => void;
}

/** A run or a skip decided, or a `for:` timer started or cancelled. */
export type SinkDecision =
  Decision | { key: DecisionKey; outcome: "timer"; timerId: string | null } | { key: DecisionKey; outcome: "timer_cancelled"; timerId: string };

interface PreparedEvent {
  eventId: string;
  matches: readonly IndexedTrigger[];
  /** The payload checked once against the trigger's schema. */
  checked: CheckedPayload;
}

/** Items that share a key (directly or through others) in one group; groups and items in input order. */
export function groupByKeys<T>(items: readonly T[], keysOf: (item: T) => readonly string[]): T[][] {
  const parent = new Map<string, string>();
  const root = (key: string): string => {
    let at = key;
    while (parent.get(at) !== at) at = parent.get(at)!;
    parent.set(key, at);
    return at;
  };
  const keyed = items.map((item) => {
    const keys = keysOf(item);
    for (const key of keys) if (!parent.has(key)) parent.set(key, key);
    for (const key of keys.slice(1)) parent.set(root(key), root(keys[0]!));
    return { item, first: keys[0]! };
  });
  const groups = new Map<string, T[]>();
  for (const { item, first } of keyed) {
    const group = root(first);
    groups.set(group, [...(groups.get(group) ?? []), item]);
  }
  return [...groups.values()];
}

export function createAutomationSink(options: AutomationSinkOptions): ChangeSink {
  const { index, triggers, entities } = options;
  const log = options.logger.child({ component: "automation-sink" });
  const observe = (decision: SinkDecision) => options.onDecision?.(decision);

  /** The triggers listening to each of the change's events, with the payload parsed once. */
  const prepare = (routed: RoutedChange): PreparedEvent[] =>
    routed.eventIds.flatMap((eventId) => {
      const matches = index.lookup(eventId);
      if (matches.length === 0) return [];
      return [{ eventId, matches, checked: checkPayload(triggers, eventId, routed.payload) }];
    });

  /**
   * What must be decided in order with what else: the change's entity (its timers, its own
   * order) and every run scope its triggers may start a run in (admission reads the scope's
   * active runs, so two decisions in one scope must not overlap).
   */
  const orderKeys = (routed: RoutedChange, events: readonly PreparedEvent[]): string[] => {
    const keys = [`entity:${routed.change.kind}:${routed.change.id}`];
    for (const { checked, matches } of events) {
      for (const match of matches) {
        const perContext = match.automation.compiled.definition.concurrency === "context" && checked.ok;
        keys.push(`scope:${match.automation.id}${perContext ? `:${checked.definition.contextKey(checked.payload)}` : ""}`);
      }
    }
    return keys;
  };

  const decide = async (routed: RoutedChange, event: PreparedEvent, tx: SqlClient, timers: Map<string, PendingTimer[]>) => {
    const { change } = routed;
    const { eventId, matches, checked } = event;
    if (!checked.ok) log.warn({ eventId, changeId: change.changeId, issues: checked.detail.issues }, "a routed payload does not match its trigger's schema");
    const entity = entityReader(entities);
    for (const match of matches) {
      const key: DecisionKey = {
        automationId: match.automation.id,
        automationVersion: match.automation.version,
        triggerId: match.trigger.id,
        triggerEvent: eventId,
        changeId: change.changeId,
      };
      const judgment = await judgeMatch(routed, eventId, checked, match, entity);
      switch (judgment.type) {
        case "skip": {
          const { reason, detail, verdicts } = judgment;
          observe({ key, outcome: "skip", reason, detail, recorded: await insertSkip(tx, key, reason, detail, verdicts) });
          break;
        }
        case "timer": {
          // The conditions are checked when the timer runs out, against the state then.
          const timer = await startTimer(tx, key, { routed, trigger: judgment.trigger, verdicts: judgment.verdicts, forMs: judgment.forMs });
          if (timer) rememberTimer(timers, timer);
          observe({ key, outcome: "timer", timerId: timer?.id ?? null });
          break;
        }
        case "run": {
          const { policy, contextKey, trigger, verdicts } = judgment;
          observe(await startRun(tx, key, { policy, contextKey, trigger, verdicts }));
        }
      }
    }
  };

  return {
    name: AUTOMATION_SINK_NAME,
    async deliver(batch, tx) {
      await wakeWaitingRuns(batch, tx);
      const timers = await timersOf(tx, batch);
      const prepared = batch.map((routed) => ({ routed, events: prepare(routed) }));
      // Changes that share no entity and no run scope are independent: each group in batch
      // order, the groups at once, so their statements share the router's round trips (a
      // mass outage is thousands of entities, each its own scope under `concurrency: context`).
      const groups = groupByKeys(prepared, ({ routed, events }) => orderKeys(routed, events));
      await settledInOrder(
        groups.map(async (group) => {
          for (const { routed, events } of group) {
            for (const timer of contraryTimers(timers, routed, triggers)) {
              if (await cancelTimer(tx, timer, routed)) observe({ key: timer.key, outcome: "timer_cancelled", timerId: timer.id });
            }
            for (const event of events) await decide(routed, event, tx, timers);
          }
        }),
      );
    },
  };
}
