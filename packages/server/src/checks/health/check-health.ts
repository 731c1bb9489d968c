// The check-health entity in a core: defines the kind (its read is the check_health table),
// registers its deriver, payload mapper and triggers, and evaluates health where results
// arrive — in the ingest's transaction, so a result and the state it causes commit together.
import { type EntityChanged, SYSTEM_ACTOR } from "@vantage/protocol";
import type pg from "pg";
import { type EntityHandle, type EntityRegistry, settledInOrder, type SqlClient, withPipelinedTransaction } from "../../entities/index.ts";
import type { TriggerRegistry } from "../../automations/index.ts";
import type { CheckResultInput } from "../results/check-result.ts";
import type { IngestOutcome } from "../results/ingest/ingest-results.ts";
import type { IngestTransaction } from "../results/ingest/result-ingest.ts";
import {
  CHECK_HEALTH_ENTITY_KIND,
  type CheckHealthState,
  checkHealthChangeToPayload,
  checkHealthStateSchema,
  deriveCheckHealthEvents,
  materiallyDiffers,
} from "./check-health-entity.ts";
import { lockAndLoad, readCheckHealthStates, runsAt, writeHealthRecords } from "./check-health-store.ts";
import { describeResult } from "./describe-result.ts";
import { type CheckHealthRecord, evaluateCheckHealth, stalenessMsOf } from "./evaluate-check-health.ts";
import { checkHealthTriggers } from "./health-triggers.ts";
import type { LocationResult } from "./location-health.ts";

export interface CheckHealthModuleOptions {
  pool: pg.Pool;
  entities: EntityRegistry;
  triggers: Pick<TriggerRegistry, "register">;
  /** The clock, in epoch milliseconds. */
  now: () => number;
}

/** How an evaluation fits in the caller's transaction. */
export interface EvaluationOptions {
  /**
   * The insert of the results, still in flight: the checks are locked and loaded behind it
   * (one round trip in a pipelined transaction), and only the results it stored are applied (a
   * resend changes nothing). Without it, every result given counts.
   */
  stored?: Promise<Pick<IngestOutcome, "stored">>;
  /** Sends the caller's COMMIT behind the evaluation's last write, in its round trip (see MutateManyOptions.commit). */
  commit?: () => void;
}

export interface CheckHealth {
  handle: EntityHandle<CheckHealthState>;
  /**
   * Evaluates the health of the checks these results belong to, inside the caller's open
   * transaction (the ingest's, behind its insert): loads their records under the checks' row
   * locks, applies the results, and writes every record in one statement — through one
   * `mutateMany` for those whose state changed beyond a result's time. Returns what to run
   * once the transaction committed (announcing the recorded changes).
   */
  evaluateHealth(tx: SqlClient, results: readonly CheckResultInput[], options?: EvaluationOptions): Promise<() => void>;
  /**
   * Re-evaluates checks whose deadline (stale_at) passed, without new results, in one
   * transaction of its own: silent locations turn unobservable, offline satellites' locations
   * too. Conditional by nature: a check re-evaluated twice changes once. Returns the ids.
   */
  evaluateDue(ids: readonly string[]): Promise<string[]>;
  /**
   * After a check's definition changed, in the edit's transaction: drops the locations where it
   * no longer runs (runOn changed, a satellite deselected) and re-evaluates the rest. Returns
   * what to run once that transaction committed.
   */
  evaluateEdited(tx: SqlClient, ids: readonly string[]): Promise<() => void>;
}

export function createCheckHealth(options: CheckHealthModuleOptions): CheckHealth {
  const { pool, entities, now } = options;
  const handle = entities.defineEntity({
    kind: CHECK_HEALTH_ENTITY_KIND,
    schema: checkHealthStateSchema,
    read: (ids, db) => readCheckHealthStates(db ?? pool, ids),
  });
  entities.registerChangeDeriver({
    kind: CHECK_HEALTH_ENTITY_KIND,
    derive: deriveCheckHealthEvents,
    toPayload: checkHealthChangeToPayload,
    emits: checkHealthTriggers.map((trigger) => trigger.id),
  });
  for (const trigger of checkHealthTriggers) options.triggers.register(trigger);

  /**
   * Evaluates `results` and brings `due` (checks whose deadline passed, without results) up to
   * date, in the caller's transaction: the entities locked, their records loaded, one write.
   */
  const evaluate = async (
    tx: SqlClient,
    results: readonly CheckResultInput[],
    { due = [], prune = false, stored, commit }: EvaluationOptions & { due?: readonly string[]; prune?: boolean } = {},
  ): Promise<() => void> => {
    const byCheck = new Map<string, CheckResultInput[]>(due.map((id) => [id, []]));
    for (const result of results) {
      const list = byCheck.get(result.checkId);
      if (list) list.push(result);
      else byCheck.set(result.checkId, [result]);
    }
    const ids = [...byCheck.keys()].sort();
    if (ids.length === 0) return () => {};
    const at = now();
    // Under the checks' row locks before reading, in one round trip (the insert's, when it is
    // still in flight): two batches with results of one check queue here, so the second applies
    // its results to what the first wrote. (Taken after the insert, not with BEGIN: batches
    // sharing a check still insert side by side.)
    const loading = lockAndLoad(
      tx,
      ids,
      results.map((result) => result.location),
      at,
    );
    // The insert's failure first: the load behind it only says the transaction is aborted.
    const [outcome, { checks: loaded, facts }] = await settledInOrder([stored ?? Promise.resolve(null), loading]);
    const storedIds = outcome && new Set(outcome.stored);
    const isNew = (result: CheckResultInput) => storedIds === null || storedIds.has(result.resultId);
    const dueIds = new Set(due);
    const next = new Map<string, CheckHealthRecord>();
    const previous = (id: string) => loaded.get(id)?.record ?? null;
    for (const id of ids) {
      const { schedule, maintenance } = loaded.get(id) ?? {};
      if (!schedule) continue; // deleted since its results were taken
      const arrived = byCheck.get(id)!.filter(isNew);
      if (arrived.length === 0 && !dueIds.has(id)) continue; // only resends: nothing happened
      // Only the locations runOn selects observe the check: a run on demand elsewhere (or a
      // result still in flight from a satellite deselected since) is stored, and counts for nothing here.
      const counted = arrived.filter((result) => runsAt(schedule, result.location, facts));
      byCheck.set(id, counted);
      // Due (or only results that do not count) without a record: nothing to evaluate.
      if (counted.length === 0 && previous(id) === null) continue;
      const checkResults: LocationResult[] = counted.map((result) => ({
        location: result.location,
        status: result.status,
        startedAt: Date.parse(result.startedAt),
        problem: describeResult(result.status, result.detail, schedule.timeoutMs),
      }));
      next.set(
        id,
        evaluateCheckHealth({
          previous: previous(id),
          results: checkResults,
          options: schedule.options,
          stalenessMs: stalenessMsOf(schedule, schedule.options),
          ...facts,
          maintenance,
          now: at,
          silenceIsFailure: schedule.pushGraceSeconds !== null,
          runsAt: prune ? (location) => runsAt(schedule, location, facts) : undefined,
        }),
      );
    }
    // A record whose state moved only by its results' times is written without a change (as a
    // satellite's heartbeat is); the others go through the entity, recorded with their history.
    const changed = new Map<string, CheckHealthRecord>();
    const quiet = new Map<string, CheckHealthRecord>();
    for (const [id, record] of next) (materiallyDiffers(previous(id), record) ? changed : quiet).set(id, record);
    // A quiet record always had one before (a first state is a change). Sent without waiting:
    // it shares a round trip with the changes' first statement, or with COMMIT.
    const writingQuiet = writeHealthRecords(tx, quiet, at, true);
    if (changed.size === 0) {
      commit?.();
      await writingQuiet;
      return () => {};
    }
    const mutating = handle.mutateMany({
      ids: [...changed.keys()],
      actor: SYSTEM_ACTOR,
      cause: (id) => {
        const arrived = byCheck.get(id)!;
        // Without a result, what led to the change is the check's new definition or the deadline it passed.
        if (arrived.length > 0) return { type: CHECK_RESULT_CAUSE, id: newestResultId(arrived) };
        return { type: prune ? CHECK_DEFINITION_CAUSE : CHECK_DEADLINE_CAUSE, id };
      },
      tx,
      // Every writer of a check's health holds the check's row lock (check-locks.ts), taken above.
      locked: true,
      commit,
      apply: (client) => writeHealthRecords(client, changed, at),
    });
    const [, recorded] = await settledInOrder([writingQuiet, mutating]);
    const changes = recorded.flatMap((result): EntityChanged[] => (result.change ? [result.change] : []));
    return () => handle.announce(changes);
  };

  const evaluateDue = async (ids: readonly string[]): Promise<string[]> => {
    const announce = await withPipelinedTransaction(pool, "BEGIN", (tx) => evaluate(tx.client, [], { due: ids, commit: tx.commit }));
    announce();
    return [...ids];
  };

  return {
    handle,
    evaluateHealth: (tx, results, options) => evaluate(tx, results, options),
    evaluateDue,
    evaluateEdited: (tx, ids) => evaluate(tx, [], { due: ids, prune: true }),
  };
}

type InTransaction = (tx: IngestTransaction, results: readonly CheckResultInput[]) => Promise<void | (() => void)>;

/**
 * The ingest's in-transaction hook: evaluates the results the batch stored (a resend or a
 * dropped result changes nothing) — its locks and loads sent behind the insert, its last write
 * with COMMIT — then runs `also` (a test's own hook) if given, before COMMIT.
 */
export function evaluateHealthOnIngest(health: Pick<CheckHealth, "evaluateHealth">, also?: InTransaction): InTransaction {
  return async (tx, results) => {
    const announce = await health.evaluateHealth(tx.client, results, { stored: tx.stored, commit: also ? undefined : tx.commit });
    const more = also ? await also(tx, results) : undefined;
    return () => {
      announce();
      more?.();
    };
  };
}

/** The cause of a health change: the newest of the results that led to it. */
export const CHECK_RESULT_CAUSE = "check.result";
/** The cause of a health change no result brought: the check's deadline passed (its id is the check's). */
export const CHECK_DEADLINE_CAUSE = "check.deadline";
/** The cause of a health change its definition brought (a location dropped); its id is the check's. */
export const CHECK_DEFINITION_CAUSE = "check.definition";

function newestResultId(results: readonly CheckResultInput[]): string {
  return results.reduce((newest, result) => (Date.parse(result.startedAt) > Date.parse(newest.startedAt) ? result : newest)).resultId;
}
