// The automation engine's sink of the entity router: it decides, the executor executes.
// For each routed change and each of its event ids it looks the listening triggers up in the
// in-memory index, validates the payload, evaluates the trigger's filter and the automation's
// conditions, and records a run (under the automation's mode), a `for:` timer, or a skip with
// its reason; a change contrary to a `for:` timer cancels it. All in the router's transaction,
// keyed by (automation, trigger, change), so a redelivered change decides nothing twice; and
// a whole batch in a few statements (admitRuns), so the router keeps up at any rate. A batch
// that gives it nothing to write (no listening trigger, no timer to cancel, no run to wake) is
// told apart before the router opens a transaction, and costs none (`prepare`).
// Runs it records while this core's worker has free slots are recorded already claimed
// ('running') and handed to that worker once the batch commits, their jobs locked for it in the
// same transaction (execution/run-handoff.ts).
import {
  type ChangeSink,
  type DeliverOptions,
  type EntityRegistry,
  type RoutedChange,
  type SinkDelivery,
  settledInOrder,
  type SqlClient,
} from "../../entities/index.ts";
import type { Logger } from "../../log.ts";
import type { AutomationIndex, IndexedTrigger } from "./automation-index.ts";
import { type DecisionKey, type HandedRun, insertSkips } from "../runs/automation-runs.ts";
import type { HandoffReservation, RunHandoff } from "../execution/run-handoff.ts";
import { entityReader } from "../definitions/entity-reader.ts";
import { type CheckedPayload, checkPayload, type Judgment, judgeMatch } from "./judge-match.ts";
import { type AdmissionHandoff, admitRuns, type Decision } from "../runs/run-admission.ts";
import { anyRunWaitsOn, wakeWaitingRuns } from "../runs/run-waits.ts";
import { cancelTimer, contraryTimers, type PendingTimer, rememberTimer, startTimer, timersOf } from "./trigger-timers.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";

export const AUTOMATION_SINK_NAME = "automations";

export interface AutomationSinkOptions {
  index: Pick<AutomationIndex, "lookup">;
  triggers: Pick<TriggerRegistry, "get">;
  /** `entity(kind, id)` in filters and conditions reads current state through these handles. */
  entities: Pick<EntityRegistry, "entity">;
  logger: Logger;
  /** This core's worker, which takes the runs the batch records while it has free slots. Absent: every run goes through the job queue. */
  handoff?: RunHandoff;
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

/** One listening trigger of one routed change, judged. */
interface Judged {
  routed: RoutedChange;
  key: DecisionKey;
  judgment: Judgment;
  /** The automation's name, for a run handed over to this core's worker. */
  automationName: string;
}

/**
 * The batch's runs to hand over to this core's worker: slots reserved now, the runs (with their
 * locked jobs) executed once the router's transaction committed; undefined when the worker takes none.
 */
function handOver(handoff: RunHandoff | undefined, wanted: number, whenSettled: DeliverOptions["whenSettled"]): AdmissionHandoff | undefined {
  // Without the transaction's outcome there is no safe moment to start them.
  if (!handoff || !whenSettled || wanted === 0) return undefined;
  const reservation: HandoffReservation | undefined = handoff.reserve(wanted);
  if (!reservation) return undefined;
  let offered: readonly string[] = [];
  let handed: readonly HandedRun[] | undefined;
  whenSettled((outcome) => {
    // Nothing offered (no pending run): nothing was locked, whatever the outcome.
    if (outcome === "committed" && (handed || offered.length === 0)) reservation.start(handed ?? []);
    else if (outcome === "rolled_back") reservation.cancel();
    // Committed with no answer read, or unknown: their jobs may exist, locked; unlocked for any worker.
    else reservation.abandon(offered);
  });
  return {
    workerId: reservation.workerId,
    limit: reservation.slots,
    offered: (runIds) => (offered = runIds),
    handed: (runs) => (handed = runs),
  };
}

/** Settles later: a statement issued now whose answer is awaited after other work (its rejection is not unhandled meanwhile). */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
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
   * Every listening trigger of the batch judged, in batch order (change, event, trigger). Judging
   * writes nothing; a condition's `entity(kind, id)` reads current state, each entity once per change.
   */
  const judgeBatch = (batch: readonly RoutedChange[]): Promise<Judged[]> =>
    Promise.all(
      batch.flatMap((routed) => {
        const { change } = routed;
        const entity = entityReader(entities);
        return prepare(routed).flatMap(({ eventId, matches, checked }) => {
          if (!checked.ok)
            log.warn({ eventId, changeId: change.changeId, issues: checked.detail.issues }, "a routed payload does not match its trigger's schema");
          return matches.map(async (match): Promise<Judged> => {
            const key: DecisionKey = {
              automationId: match.automation.id,
              automationVersion: match.automation.version,
              triggerId: match.trigger.id,
              triggerEvent: eventId,
              changeId: change.changeId,
            };
            const judgment = await judgeMatch(routed, eventId, checked, match, entity);
            return { routed, key, judgment, automationName: match.automation.compiled.definition.name };
          });
        });
      }),
    );

  /**
   * The batch's `for:` timers, per entity in batch order (a timer a change starts may be
   * cancelled by a later change of the same entity in the batch), the entities at once.
   * `issuedAll` once it will issue nothing more.
   */
  const settleTimers = async (
    batch: readonly RoutedChange[],
    judged: readonly Judged[],
    tx: SqlClient,
    timers: Map<string, PendingTimer[]>,
    issuedAll: () => void,
  ) => {
    const starts = new Map<RoutedChange, Judged[]>();
    for (const item of judged) if (item.judgment.type === "timer") starts.set(item.routed, [...(starts.get(item.routed) ?? []), item]);
    if (timers.size === 0 && starts.size === 0) return issuedAll();
    const byEntity = groupByKeys(batch, (routed) => [JSON.stringify([routed.change.kind, routed.change.id])]);
    await settledInOrder(
      byEntity.map(async (changes) => {
        for (const routed of changes) {
          for (const timer of contraryTimers(timers, routed, triggers)) {
            if (await cancelTimer(tx, timer, routed)) observe({ key: timer.key, outcome: "timer_cancelled", timerId: timer.id });
          }
          for (const { key, judgment } of starts.get(routed) ?? []) {
            if (judgment.type !== "timer") continue;
            // The conditions are checked when the timer runs out, against the state then.
            const timer = await startTimer(tx, key, { routed, trigger: judgment.trigger, verdicts: judgment.verdicts, forMs: judgment.forMs });
            if (timer) rememberTimer(timers, timer);
            observe({ key, outcome: "timer", timerId: timer?.id ?? null });
          }
        }
      }),
    );
    issuedAll();
  };

  /**
   * Records a judged batch in the router's transaction: wakes, skips, runs, timers.
   * `firstDelivery`: no delivery of these changes committed before (PrepareOptions.firstDelivery).
   */
  const record = async (
    batch: readonly RoutedChange[],
    judging: Promise<Judged[]>,
    tx: SqlClient,
    { issuedAll, loseable, whenSettled }: DeliverOptions = {},
    firstDelivery = false,
  ) => {
    // The router may send COMMIT once the skips, the admissions and the timers have each issued their last statement.
    let parts = 3;
    const partIssued = () => {
      if (--parts === 0) issuedAll?.();
    };
    // Issued before judging is awaited (`deliver` judges meanwhile), answered in the round trip
    // of the decisions' reads: the router's client is pipelined, so a batch of any size costs
    // a few round trips.
    const waking = later(wakeWaitingRuns(batch, tx));
    const readingTimers = later(timersOf(tx, batch));
    let judged: Judged[];
    try {
      judged = await judging;
    } catch (error) {
      await Promise.allSettled([waking, readingTimers]);
      throw error;
    }
    const skipped = judged.filter((item) => item.judgment.type === "skip");
    const admitted = judged.filter((item) => item.judgment.type === "run");
    const handoff = handOver(options.handoff, admitted.length, whenSettled);
    const skipping = insertSkips(
      tx,
      skipped.map(({ key, judgment }) => {
        const { reason, detail, verdicts } = judgment as Extract<Judgment, { type: "skip" }>;
        return { key, reason, detail, verdicts };
      }),
    );
    partIssued(); // one statement, sent by now
    const [, recorded, decisions] = await settledInOrder([
      waking,
      skipping,
      admitRuns(
        tx,
        admitted.map(({ key, judgment, automationName }) => {
          const { policy, contextKey, trigger, verdicts } = judgment as Extract<Judgment, { type: "run" }>;
          return { key, policy, contextKey, trigger, verdicts, automationName };
        }),
        { issuedAll: partIssued, handoff, firstDelivery },
      ),
      readingTimers.then((timers) => {
        // Nothing judged and no timer to cancel: routed again after a crash of the database,
        // the batch records nothing again; the runs it woke are woken again, and each of
        // those writes its next step durably before any effect, which flushes this commit.
        if (judged.length === 0 && timers.size === 0) loseable?.();
        return settleTimers(batch, judged, tx, timers, partIssued);
      }),
    ]);
    const decided = new Map<Judged, SinkDecision>();
    for (const [i, item] of skipped.entries()) {
      const { reason, detail } = item.judgment as Extract<Judgment, { type: "skip" }>;
      decided.set(item, { key: item.key, outcome: "skip", reason, detail, recorded: recorded[i]! });
    }
    for (const [i, item] of admitted.entries()) decided.set(item, decisions[i]!);
    for (const item of judged) {
      const decision = decided.get(item);
      if (decision) observe(decision);
    }
  };

  /** Whether an entity the batch changed has a pending timer that one of its changes cancels. */
  const cancelsATimer = (batch: readonly RoutedChange[], timers: ReadonlyMap<string, PendingTimer[]>) =>
    timers.size > 0 && batch.some((routed) => contraryTimers(timers, routed, triggers).length > 0);

  return {
    name: AUTOMATION_SINK_NAME,
    deliver: (batch, tx, deliverOptions) => record(batch, judgeBatch(batch), tx, deliverOptions),
    /**
     * Judging writes nothing, so it is done before the router's transaction. Nothing judged
     * (no trigger listens: the executor's run-status changes, mostly), the batch writes only if
     * it cancels a timer or wakes a run, read here outside the transaction — sound because
     * only this sink, in the router's transaction, starts timers (so none can be missing
     * here: the previous batch committed before this read; one removed since, fired, is
     * found gone by cancelTimer), and a wait missed here sees the batch's changes itself
     * (anyRunWaitsOn). Routed again after a crash, such a batch is judged the same way
     * against the index then, and finds no timer either: only a batch that writes starts
     * one, and it also persists the router's cursor past this batch.
     */
    async prepare(batch, db, { readingAhead, firstDelivery } = {}): Promise<SinkDelivery | null> {
      const judged = await judgeBatch(batch);
      if (judged.length > 0) return (tx, deliverOptions) => record(batch, Promise.resolve(judged), tx, deliverOptions, firstDelivery);
      readingAhead?.();
      const [timers, waiting] = await settledInOrder([timersOf(db, batch), anyRunWaitsOn(db, batch)]);
      if (!waiting && !cancelsATimer(batch, timers)) return null;
      return (tx, deliverOptions) => record(batch, Promise.resolve(judged), tx, deliverOptions, firstDelivery);
    },
  };
}
