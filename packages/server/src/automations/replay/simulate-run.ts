// One would-be run of a replay, on the virtual clock: the real compiled actions rendered with
// the real action modules (inputs as a run's trace keeps them, secrets masked) but never
// executed; `delay` moves the clock, `wait_until` is satisfied by a later recorded change of
// what its condition read, or times out. Nothing is written and nothing leaves the core.
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import type { Logger } from "../../log.ts";
import type { CompiledAction } from "../definitions/compile-automation.ts";
import type { ActionModule, ActionModules, LeafKind, StepContext } from "../execution/actions/step.ts";
import type { EvaluationContext } from "../expressions/index.ts";
import type { RunTrigger } from "../runs/automation-runs.ts";
import { type EntityRef, recordReads } from "../runs/run-waits.ts";
import type { HistoricEntities } from "./historic-entities.ts";

/** An action the run would have taken, at its virtual time. */
export interface ReplayStep {
  path: string;
  kind: CompiledAction["kind"];
  at: string;
  input: JsonValue;
  output?: JsonValue;
}

export type SimulatedEnd = { status: "succeeded" | "failed" | "waiting"; error?: string; stopReason?: string | null };

export interface SimulatedRun extends SimulatedEnd {
  /** When the run ends on the virtual clock (the horizon for one still waiting). */
  endsAt: number;
  steps: ReplayStep[];
}

export interface SimulationDeps {
  pool: Pick<pg.Pool, "query">;
  history: HistoricEntities;
  /** The executor's own leaf modules; only their prepare half (render the input) is ever called. */
  modules: ActionModules;
  automation: { id: string; name: string };
  logger: Logger;
  /** The replay's end: a wait still open then is reported as waiting. */
  horizon: number;
}

/** At most this many later changes are looked at per `wait_until` (then it is reported as timing out). */
const MAX_WAKES = 1_000;

// The changes of the entities a wait_until read, after it started and before it times out:
// each is a moment its condition may have turned true (entity_changes_by_entity per entity).
const LATER_CHANGES = `
  SELECT c.seq, c.occurred_at FROM unnest($1::text[], $2::text[]) AS e (kind, id)
  CROSS JOIN LATERAL (
    SELECT seq, occurred_at FROM entity_changes
    WHERE kind = e.kind AND entity_id = e.id AND occurred_at > $3 AND occurred_at <= $4
    ORDER BY seq LIMIT ${MAX_WAKES}) c
  ORDER BY c.seq LIMIT ${MAX_WAKES}`;

type Outcome = { at: number; end?: SimulatedEnd };

const never = new AbortController().signal;

export async function simulateRun(
  actions: readonly CompiledAction[],
  trigger: RunTrigger,
  startAt: number,
  runId: string,
  deps: SimulationDeps,
): Promise<SimulatedRun> {
  const steps: ReplayStep[] = [];
  const record = (action: CompiledAction, at: number, input: JsonValue, output?: JsonValue) =>
    steps.push({ path: action.path, kind: action.kind, at: new Date(at).toISOString(), input, ...(output === undefined ? {} : { output }) });
  const evaluation = (at: number, entity = deps.history.reader({ at })): EvaluationContext => ({
    trigger: { id: trigger.triggerId, event: trigger.event, payload: trigger.payload },
    vars: {},
    entity,
    now: at,
  });

  const leaf = async (action: Extract<CompiledAction, { kind: LeafKind }>, at: number): Promise<Outcome> => {
    const context: StepContext = {
      runId,
      path: action.path,
      automation: deps.automation,
      evaluation: evaluation(at),
      logger: deps.logger,
      now: () => at,
      countAttempt: async () => undefined,
      backoff: async () => undefined,
      signal: never,
    };
    const prepared = await (deps.modules[action.kind] as ActionModule<LeafKind>)(action, context);
    record(action, at, prepared.input);
    if (action.kind === "delay") return { at: at + action.durationMs };
    if (action.kind === "stop") return { at, end: { status: "succeeded", stopReason: (prepared.input as { reason: string | null }).reason } };
    return { at };
  };

  const check = async (action: Extract<CompiledAction, { kind: "wait_until" }>, asOf: { seq: number } | { at: number }, at: number) => {
    const reader = recordReads(deps.history.reader(asOf));
    return { satisfied: await action.condition(evaluation(at, reader.entity)), reads: reader.reads() };
  };

  const waitUntil = async (action: Extract<CompiledAction, { kind: "wait_until" }>, at: number): Promise<Outcome> => {
    const input = { timeoutMs: action.timeoutMs, continueOnTimeout: action.continueOnTimeout };
    const first = await check(action, { at }, at);
    if (first.satisfied) {
      record(action, at, input, { satisfied: true });
      return { at };
    }
    const until = at + action.timeoutMs;
    const wakes = await laterChanges(first.reads, at, Math.min(until, deps.horizon));
    for (const wake of wakes) {
      if ((await check(action, { seq: wake.seq }, wake.at)).satisfied) {
        record(action, at, input, { satisfied: true, at: new Date(wake.at).toISOString() });
        return { at: wake.at };
      }
    }
    if (until > deps.horizon) {
      record(action, at, input, { satisfied: false, waitingAtEnd: true });
      return { at: deps.horizon, end: { status: "waiting" } };
    }
    record(action, at, input, { satisfied: false, timedOut: true });
    if (action.continueOnTimeout || action.continueOnError) return { at: until };
    return { at: until, end: { status: "failed", error: `${action.path}: timed out after ${action.timeoutMs} ms` } };
  };

  const laterChanges = async (reads: readonly EntityRef[], after: number, until: number) => {
    if (reads.length === 0 || until <= after) return [];
    const { rows } = await deps.pool.query<{ seq: string; occurred_at: Date }>(LATER_CHANGES, [
      reads.map((ref) => ref.kind),
      reads.map((ref) => ref.id),
      new Date(after),
      new Date(until),
    ]);
    return rows.map((row) => ({ seq: Number(row.seq), at: row.occurred_at.getTime() }));
  };

  const sequence = async (list: readonly CompiledAction[], at: number): Promise<Outcome> => {
    let now = at;
    for (const action of list) {
      const outcome = await step(action, now);
      now = outcome.at;
      if (outcome.end) return outcome;
    }
    return { at: now };
  };

  const step = async (action: CompiledAction, at: number): Promise<Outcome> => {
    switch (action.kind) {
      case "wait_until":
        return waitUntil(action, at);
      case "choose": {
        for (const branch of action.when) if (await branch.conditions(evaluation(at))) return sequence(branch.then, at);
        return sequence(action.otherwise, at);
      }
      case "parallel": {
        // Branches start together; the step ends with the last of them (or the first that ends the run).
        let latest = at;
        for (const branch of action.branches) {
          const outcome = await sequence(branch, at);
          if (outcome.end) return outcome;
          latest = Math.max(latest, outcome.at);
        }
        return { at: latest };
      }
      default:
        return leaf(action, at);
    }
  };

  const outcome = await sequence(actions, startAt);
  return { ...(outcome.end ?? { status: "succeeded" }), endsAt: outcome.at, steps };
}
