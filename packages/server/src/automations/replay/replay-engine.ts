// The replay of one automation definition over recorded history: the outbox's changes of
// [from, to) (only the kinds whose derivers can emit the definition's events), read in seq
// order in bounded batches, go through the same deriver, payload mapper, judgment (filter,
// conditions, silencing), `for:` timers and run modes as the router's sink — on a virtual
// clock, with entity reads answered from history — and every decision is tallied, not written.
import type pg from "pg";
import type { EntityRegistry, RoutedChange } from "../../entities/index.ts";
import { CHANGE_COLUMNS, type ChangeRow, changeFromRow } from "../../entities/index.ts";
import type { Logger } from "../../log.ts";
import type { CompiledAutomation } from "../definitions/compile-automation.ts";
import { createActionModules } from "../execution/run-executor.ts";
import { VantageError } from "../../errors.ts";
import type { IndexedTrigger } from "../routing/automation-index.ts";
import { evaluateMatch } from "../routing/evaluate-match.ts";
import { checkPayload, judgeMatch } from "../routing/judge-match.ts";
import { contraryTimers, forCancelledDetail, type PendingTimer } from "../routing/trigger-timers.ts";
import type { DecisionKey, RunTrigger, SkipReason, Verdict } from "../runs/automation-runs.ts";
import { MODES } from "../runs/run-admission.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";
import { createHistoricEntities } from "./historic-entities.ts";
import { createReplayTally, type ReplayGap, type ReplayResult, type ReplayRun } from "./replay-result.ts";
import { simulateRun, type SimulationDeps } from "./simulate-run.ts";

export interface ReplayEngineDeps {
  pool: pg.Pool;
  entities: Pick<EntityRegistry, "deriveEvents" | "toPayload" | "kindsEmitting">;
  triggers: Pick<TriggerRegistry, "get">;
  logger: Logger;
  /** Changes read per query: what bounds the replay's memory with the listed decisions. */
  batchSize?: number;
  /** Runs and skips kept in full (all are counted). */
  maxListed?: number;
}

export interface ReplayRequest {
  compiled: CompiledAutomation;
  /** A saved automation's id (its decisions carry it, like real ones), or null for a draft. */
  automationId: string | null;
  from: number;
  to: number;
  /** The real clock: the part of the range after it has no history yet. */
  now: number;
}

export interface ReplayProgress {
  /** 0…1, by the position in the outbox. */
  fraction: number;
  changes: number;
}

/** Called after each batch; false stops the replay (cancelled). */
export type OnReplayBatch = (progress: ReplayProgress) => Promise<boolean>;

export const DEFAULT_REPLAY_BATCH = 2_000;

// The range's first and last seq through entity_changes_by_time (one index probe each);
// a batch then walks the primary key in seq order between them.
const FIRST_SEQ = "SELECT seq FROM entity_changes WHERE occurred_at >= $1 ORDER BY occurred_at, seq LIMIT 1";
const LAST_SEQ = "SELECT seq FROM entity_changes WHERE occurred_at < $1 ORDER BY occurred_at DESC, seq DESC LIMIT 1";
const OLDEST = "SELECT occurred_at FROM entity_changes ORDER BY seq LIMIT 1";
// Only the seq range and the kind: the primary key's range scan in seq order, whatever the
// planner thinks of the time index (the range's exact instants are checked on each row).
const BATCH = `SELECT ${CHANGE_COLUMNS} FROM entity_changes WHERE seq > $1 AND seq <= $2 AND kind = ANY($3) ORDER BY seq LIMIT $4`;
const BATCH_ALL_KINDS = `SELECT ${CHANGE_COLUMNS} FROM entity_changes WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`;

const entityKey = (kind: string, id: string) => JSON.stringify([kind, id]);
const iso = (ms: number) => new Date(ms).toISOString();

/** Parts of [from, to) that no recorded change can cover: before the oldest one, after now. */
async function gapsOf(pool: pg.Pool, from: number, to: number, now: number): Promise<ReplayGap[]> {
  const gaps: ReplayGap[] = [];
  const { rows } = await pool.query<{ occurred_at: Date }>(OLDEST);
  const oldest = rows[0]?.occurred_at.getTime() ?? Math.min(now, to);
  if (from < oldest) gaps.push({ from: iso(from), to: iso(Math.min(oldest, to)), reason: "before_retention" });
  if (to > now) gaps.push({ from: iso(Math.max(now, from)), to: iso(to), reason: "not_yet_recorded" });
  return gaps;
}

interface ScopeRun {
  run: ReplayRun;
  /** Null while queued. */
  endsAt: number | null;
  trigger: RunTrigger;
}

type VirtualTimer = PendingTimer & { dueAt: number };

export async function replayAutomation(
  deps: ReplayEngineDeps,
  request: ReplayRequest,
  onBatch: OnReplayBatch = async () => true,
): Promise<ReplayResult | null> {
  const { pool, entities, triggers } = deps;
  const { compiled, from, to } = request;
  const automationId = request.automationId ?? "draft";
  const policy = compiled.definition;
  const tally = createReplayTally({ from, to }, deps.maxListed);
  const history = createHistoricEntities(pool);
  const refuse = async () => {
    throw new VantageError("fatal", "replay_never_sends", "a replay renders actions but never sends them");
  };
  const simulation: SimulationDeps = {
    pool,
    history,
    modules: createActionModules({ send: refuse, channels: { list: refuse } } as never),
    automation: { id: automationId, name: compiled.definition.name },
    logger: deps.logger,
    horizon: to,
  };
  const automation = { id: automationId, version: 0, compiled };
  const matchesByEvent = new Map<string, IndexedTrigger[]>();
  for (const trigger of compiled.triggers) matchesByEvent.set(trigger.event, [...(matchesByEvent.get(trigger.event) ?? []), { automation, trigger }]);

  const timers = new Map<string, VirtualTimer[]>();
  const scopes = new Map<string, ScopeRun[]>();
  let timerCount = 0;
  // The earliest due instant of the pending timers, kept so a change need not scan them: null when unknown.
  let earliest: number | null = Number.POSITIVE_INFINITY;
  const earliestTimer = (): number => {
    if (earliest === null) {
      earliest = Number.POSITIVE_INFINITY;
      for (const list of timers.values()) for (const timer of list) earliest = Math.min(earliest, timer.dueAt);
    }
    return earliest;
  };
  let runCount = 0;

  const decisionBase = (at: number, trigger: RunTrigger, verdicts: Verdict[]) => ({
    at: iso(at),
    trigger: { id: trigger.triggerId, event: trigger.event },
    changeId: trigger.change!.changeId,
    entity: { kind: trigger.change!.kind, id: trigger.change!.id },
    verdicts,
  });
  const skip = (at: number, trigger: RunTrigger, reason: SkipReason, detail: Record<string, unknown>, verdicts: Verdict[]) =>
    tally.skip({ ...decisionBase(at, trigger, verdicts), reason, detail });

  const start = async (entry: ScopeRun, at: number) => {
    const simulated = await simulateRun(compiled.actions, entry.trigger, at, `replay:${entry.run.id}`, simulation);
    entry.endsAt = simulated.endsAt;
    const { endsAt: _endsAt, ...outcome } = simulated;
    Object.assign(entry.run, outcome, { startedAt: iso(at), endedAt: outcome.status === "waiting" ? null : iso(simulated.endsAt) });
  };

  /** Decides a run under the mode at `at`, as startRun does with the scope's active runs. */
  const admit = async (at: number, trigger: RunTrigger, verdicts: Verdict[], contextKey: string | null) => {
    const scopeKey = contextKey ?? "";
    const scope = (scopes.get(scopeKey) ?? []).filter((entry) => entry.endsAt === null || entry.endsAt > at);
    scopes.set(scopeKey, scope);
    const admission = MODES[policy.mode](
      scope.map((entry) => entry.run.id),
      policy.maxRuns,
    );
    if (!admission.admit) return skip(at, trigger, admission.reason, admission.detail, verdicts);
    runCount += 1;
    const run = tally.run({
      id: `run-${runCount}`,
      ...decisionBase(at, trigger, verdicts),
      status: "queued",
      contextKey,
      startedAt: null,
      endedAt: null,
      steps: [],
    });
    const entry: ScopeRun = { run, endsAt: null, trigger };
    for (const superseded of scope.filter((other) => admission.supersede.includes(other.run.id))) {
      // Restarted: its actions after this moment never happen.
      superseded.run.status = "cancelled";
      superseded.run.endedAt = iso(at);
      superseded.run.steps = superseded.run.steps.filter((step) => Date.parse(step.at) <= at);
      superseded.endsAt = at;
    }
    scope.splice(0, scope.length, ...scope.filter((other) => other.endsAt === null || other.endsAt > at), entry);
    if (admission.status === "pending") await start(entry, at);
  };

  /** A `for:` timer ran out: the filter and the conditions again, against history then. */
  const fire = async (timer: VirtualTimer) => {
    removeTimer(timer);
    const match = matchesByEvent.get(timer.key.triggerEvent)!.find((candidate) => candidate.trigger.id === timer.key.triggerId)!;
    const { payload } = timer.trigger;
    const context = {
      trigger: { id: timer.key.triggerId, event: timer.key.triggerEvent, payload },
      vars: {},
      entity: history.reader({ at: timer.dueAt }),
      now: timer.dueAt,
    };
    const verdict = await evaluateMatch(match, context);
    if (!verdict.passed) return skip(timer.dueAt, timer.trigger, verdict.reason, verdict.detail, verdict.verdicts);
    const contextKey = policy.concurrency === "context" ? (triggers.get(timer.key.triggerEvent)?.contextKey(payload) ?? null) : null;
    await admit(timer.dueAt, timer.trigger, verdict.verdicts, contextKey);
  };

  const removeTimer = (timer: VirtualTimer) => {
    const key = entityKey(timer.entityKind, timer.entityId);
    const left = (timers.get(key) ?? []).filter((other) => other !== timer);
    if (left.length > 0) timers.set(key, left);
    else timers.delete(key);
    timerCount -= 1;
    if (timer.dueAt === earliest) earliest = null;
  };

  /** The next thing due on the virtual clock up to `until`: a timer running out, or a queued run's turn. */
  const nextDue = (until: number): { at: number; act: () => Promise<void> } | undefined => {
    let next: { at: number; act: () => Promise<void> } | undefined;
    for (const list of timers.values())
      for (const timer of list) if (timer.dueAt <= until && (!next || timer.dueAt < next.at)) next = { at: timer.dueAt, act: () => fire(timer) };
    for (const scope of scopes.values()) {
      const queued = scope.find((entry) => entry.endsAt === null);
      if (!queued) continue;
      const ends = Math.max(...scope.filter((entry) => entry.endsAt !== null).map((entry) => entry.endsAt!), Number.NEGATIVE_INFINITY);
      const turn = Number.isFinite(ends) ? ends : until;
      if (turn <= until && (!next || turn < next.at)) next = { at: turn, act: () => start(queued, turn) };
    }
    return next;
  };

  // Nothing can be due without timers, or queued runs (mode queued): most changes skip the walk.
  const anythingDue = (until: number) => earliestTimer() <= until || policy.mode === "queued";
  const advanceTo = async (until: number) => {
    for (let due = nextDue(until); due; due = nextDue(until)) await due.act();
  };

  const judgeChange = async (routed: RoutedChange, listened: string[]) => {
    const { change } = routed;
    const at = Date.parse(change.occurredAt);
    const pending = timers.get(entityKey(change.kind, change.id));
    if (pending) {
      for (const timer of contraryTimers(timers, routed, triggers) as VirtualTimer[]) {
        removeTimer(timer);
        skip(at, timer.trigger, "for_cancelled", forCancelledDetail(timer, routed), timer.verdicts);
      }
    }
    if (listened.length === 0) return;
    const entity = history.reader({ seq: change.seq });
    for (const eventId of listened) {
      const checked = checkPayload(triggers, eventId, routed.payload);
      for (const match of matchesByEvent.get(eventId)!) {
        const judgment = await judgeMatch(routed, eventId, checked, match, entity);
        if (judgment.type === "skip") {
          skip(at, { event: eventId, triggerId: match.trigger.id, payload: null, forMs: null, change }, judgment.reason, judgment.detail, judgment.verdicts);
        } else if (judgment.type === "timer") {
          const key = entityKey(change.kind, change.id);
          const list = timers.get(key) ?? [];
          // As ON CONFLICT DO NOTHING: a timer already counting for this trigger and entity keeps counting.
          if (list.some((timer) => timer.key.triggerId === match.trigger.id)) continue;
          const decisionKey: DecisionKey = {
            automationId,
            automationVersion: 0,
            triggerId: match.trigger.id,
            triggerEvent: eventId,
            changeId: change.changeId,
          };
          list.push({
            id: `timer-${change.seq}-${match.trigger.id}`,
            key: decisionKey,
            entityKind: change.kind,
            entityId: change.id,
            trigger: judgment.trigger,
            verdicts: judgment.verdicts,
            createdAt: change.occurredAt,
            dueAt: at + judgment.forMs,
          });
          timers.set(key, list);
          timerCount += 1;
          if (earliest !== null) earliest = Math.min(earliest, at + judgment.forMs);
        } else {
          await admit(at, judgment.trigger, judgment.verdicts, judgment.contextKey);
        }
      }
    }
  };

  const kinds = entities.kindsEmitting(compiled.eventIds);
  tally.result.gaps = await gapsOf(pool, from, to, request.now);
  const first = (await pool.query<{ seq: string }>(FIRST_SEQ, [new Date(from)])).rows[0];
  const last = (await pool.query<{ seq: string }>(LAST_SEQ, [new Date(to)])).rows[0];
  if (first && last && kinds?.length !== 0) {
    const low = Number(first.seq) - 1;
    const high = Number(last.seq);
    let cursor = low;
    const batchSize = deps.batchSize ?? DEFAULT_REPLAY_BATCH;
    const read = (after: number) => {
      const rows = (
        kinds === null ? pool.query<ChangeRow>(BATCH_ALL_KINDS, [after, high, batchSize]) : pool.query<ChangeRow>(BATCH, [after, high, kinds, batchSize])
      ).then((result) => result.rows);
      // A batch read ahead and never awaited (cancelled, or the replay failed) must not be an unhandled rejection.
      rows.catch(() => undefined);
      return rows;
    };
    let pending = read(cursor);
    for (;;) {
      const rows = await pending;
      // The next batch is read while this one is judged: PostgreSQL and the replay overlap.
      if (rows.length === batchSize) pending = read(Number(rows.at(-1)!.seq));
      for (const row of rows) {
        const occurred = row.occurred_at.getTime();
        if (occurred < from || occurred >= to) continue;
        tally.result.changes += 1;
        const change = changeFromRow(row);
        if (anythingDue(occurred)) await advanceTo(occurred);
        const eventIds = entities.deriveEvents(change);
        const listened = eventIds.filter((eventId) => matchesByEvent.has(eventId));
        if (listened.length === 0 && (timerCount === 0 || !timers.has(entityKey(change.kind, change.id)))) continue;
        // The payload mapper only runs for changes some trigger listens to.
        const routed: RoutedChange = { change, eventIds, payload: listened.length > 0 ? entities.toPayload(change) : null };
        await judgeChange(routed, listened);
      }
      if (rows.length > 0) cursor = Number(rows.at(-1)!.seq);
      const done = rows.length < batchSize;
      if (!(await onBatch({ fraction: done || high === low ? 1 : (cursor - low) / (high - low), changes: tally.result.changes }))) return null;
      if (done) break;
    }
  }
  if (anythingDue(to)) await advanceTo(to);
  tally.result.pendingTimers = timerCount;
  return tally.finish();
}
