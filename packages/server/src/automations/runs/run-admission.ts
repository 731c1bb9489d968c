// Run modes (single, restart, queued, parallel) and maxRuns, per automation or per context:
// whether a triggered run starts, waits its turn or is skipped, and which queued run starts
// when one ends. Every decision, and every end in mode queued, takes the scope's
// transaction-level advisory lock first, so a run ending while another is queued can never
// strand it.
import type { AutomationDefinition } from "@vantage/protocol";
import { settledInOrder, type SqlClient, type SqlStatement } from "../../entities/index.ts";
import {
  ACTIVE_RUN_STATUSES,
  type DecisionKey,
  type HandedRun,
  insertRuns,
  insertSkips,
  type NewRun,
  type NewSkip,
  type RunTrigger,
  type SkipReason,
  type Verdict,
} from "./automation-runs.ts";
import { HashedLockPrefix, hashedLockKey, hashedPrefixedLockKey, LockKey, timeOrderedUuid } from "../../storage/index.ts";
import { addRunJob, removeRunJob } from "./automation-jobs.ts";
import { cancelOpenSteps } from "./run-records.ts";
import { clearRunsWaits } from "./run-waits.ts";
import { endLocksScopeSql, runsOfScope } from "./run-scopes.ts";
import { statusOfRunFoundById } from "./run-status-sql.ts";

/** What a decision needs of the definition: how runs of one scope share it. */
export type RunPolicy = Pick<AutomationDefinition, "mode" | "maxRuns">;

export type Decision =
  | { key: DecisionKey; outcome: "run"; runId: string | null; status: "pending" | "queued"; contextKey: string | null; cancelled: string[]; recorded: boolean }
  | { key: DecisionKey; outcome: "skip"; reason: SkipReason; detail: Record<string, unknown>; recorded: boolean };

export interface RunRequest {
  policy: RunPolicy;
  /** The trigger's contextKey when `concurrency: context`; null: one scope for the whole automation. */
  contextKey: string | null;
  trigger: RunTrigger;
  verdicts: readonly Verdict[];
  /** A manual run starts even while the automation is disabled: an operator asked for it. */
  evenIfDisabled?: boolean;
  /** The automation's name as judged: a run handed over executes without reading it (HandedRun). */
  automationName?: string;
}

const ACTIVE = `status IN (${ACTIVE_RUN_STATUSES.map((status) => `'${status}'`).join(", ")})`;

/** Serializes decisions and ends within one scope until the transaction ends. */
async function lockScope(tx: SqlClient, automationId: string, contextKey: string | null): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${hashedLockKey("$1")})`, [LockKey.runScope(automationId, contextKey)]);
}

/** Cancels runs, closes their open steps and drops their jobs (a locked job is left to find its run cancelled). */
async function cancelRuns(tx: SqlClient, runIds: readonly string[], reason: string): Promise<string[]> {
  if (runIds.length === 0) return [];
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE automation_runs SET status = 'cancelled', error = $2, finished_at = clock_timestamp()
     WHERE id = ANY($1::uuid[]) AND ${statusOfRunFoundById("status", ACTIVE_RUN_STATUSES)} RETURNING id`,
    [runIds, reason],
  );
  const ids = rows.map((row) => row.id);
  await tx.query(`SELECT ${removeRunJob("id")} FROM unnest($1::uuid[]) AS id`, [ids]);
  await clearRunsWaits(tx, ids);
  await cancelOpenSteps(tx, ids);
  return ids;
}

/** One triggered run to decide: which trigger of which automation fired, for which change, and how. */
export interface RunDecisionRequest extends RunRequest {
  key: DecisionKey;
}

/** A scope's lock key: the automation, or the automation and its context key. */
const scopeOf = (request: RunDecisionRequest): string => LockKey.runScope(request.key.automationId, request.contextKey);

// Every scope of the decisions, locked in one statement in one order (of the hashed keys). The
// ends, `for:` timers and manual runs that meet the router on these locks take one each, so
// the router's batch, which takes many, cannot deadlock with them.
const LOCK_SCOPES = `
  SELECT pg_advisory_xact_lock(key) FROM (SELECT DISTINCT ${hashedLockKey("scope")} AS key FROM unnest($1::text[]) AS scope ORDER BY 1) AS keys`;

// Read after the locks (a later statement: its snapshot sees every decision and end committed
// before they were granted). Per scope: the automation's switch (NULL: it is gone) and its
// active runs, oldest first — the two branches keep each on automation_runs_active.
const SCOPE_STATES = `
  SELECT scope.automation_id::text AS "automationId", scope.context_key AS "contextKey", a.enabled,
    ARRAY(
      SELECT id::text FROM (
        SELECT r.id, r.created_at FROM automation_runs r
        WHERE scope.context_key IS NULL AND r.automation_id = scope.automation_id AND r.${ACTIVE}
        UNION ALL
        SELECT r.id, r.created_at FROM automation_runs r
        WHERE scope.context_key IS NOT NULL AND r.automation_id = scope.automation_id AND r.context_key = scope.context_key AND r.${ACTIVE}
      ) AS run ORDER BY created_at, id) AS active
  FROM unnest($1::uuid[], $2::text[]) AS scope (automation_id, context_key)
  LEFT JOIN automations a ON a.id = scope.automation_id`;

// What an earlier delivery of the same changes decided (a manual run, with no change, has none).
const EARLIER_DECISIONS = `
  SELECT key.n::int AS n, r.id::text AS "runId", r.status, r.context_key AS "contextKey", s.reason, s.detail
  FROM unnest($1::uuid[], $2::text[], $3::uuid[]) WITH ORDINALITY AS key (automation_id, trigger_id, change_id, n)
  LEFT JOIN automation_runs r ON r.automation_id = key.automation_id AND r.trigger_id = key.trigger_id AND r.change_id = key.change_id
  LEFT JOIN automation_skips s ON s.automation_id = key.automation_id AND s.trigger_id = key.trigger_id AND s.change_id = key.change_id
  WHERE r.id IS NOT NULL OR s.id IS NOT NULL`;

interface ScopeState {
  automationId: string;
  contextKey: string | null;
  /** null: the automation is gone (deleted since the index last loaded); its decisions record nothing. */
  enabled: boolean | null;
  /** The scope's active runs, oldest first; the batch's own admissions are added as they are decided. */
  active: string[];
}

interface EarlierDecision {
  n: number;
  runId: string | null;
  status: "pending" | "queued";
  contextKey: string | null;
  reason: SkipReason | null;
  detail: Record<string, unknown> | null;
}

/**
 * Locks the requests' scopes and reads their states and earlier decisions: three statements,
 * one round trip. `firstDelivery`: the changes were never decided before, so there is no
 * earlier decision to look for (the router's batches but retries): two statements.
 */
async function readScopes(
  tx: SqlClient,
  requests: readonly RunDecisionRequest[],
  firstDelivery: boolean,
): Promise<{ scopes: Map<string, ScopeState>; earlier: Map<number, EarlierDecision> }> {
  const distinct = new Map<string, RunDecisionRequest>();
  for (const request of requests) if (!distinct.has(scopeOf(request))) distinct.set(scopeOf(request), request);
  const scopeRequests = [...distinct.values()];
  const keyed = firstDelivery ? [] : requests.flatMap((request, index) => (request.key.changeId === null ? [] : [{ index, key: request.key }]));
  const [, states, earlier] = await settledInOrder([
    tx.query(LOCK_SCOPES, [[...distinct.keys()]]),
    tx.query<ScopeState>(SCOPE_STATES, [scopeRequests.map((request) => request.key.automationId), scopeRequests.map((request) => request.contextKey)]),
    keyed.length === 0
      ? Promise.resolve({ rows: [] as EarlierDecision[] })
      : tx.query<EarlierDecision>(EARLIER_DECISIONS, [
          keyed.map(({ key }) => key.automationId),
          keyed.map(({ key }) => key.triggerId),
          keyed.map(({ key }) => key.changeId),
        ]),
  ]);
  const scopes = new Map(states.rows.map((state) => [LockKey.runScope(state.automationId, state.contextKey), state]));
  return { scopes, earlier: new Map(earlier.rows.map((row) => [keyed[row.n - 1]!.index, row])) };
}

export type Admission =
  { admit: true; status: "pending" | "queued"; supersede: string[] } | { admit: false; reason: "busy" | "max_runs"; detail: Record<string, unknown> };

/** Dispatch table: each mode's answer, given the ids of the scope's active runs (oldest first). A replay asks it too. */
export const MODES: Record<RunPolicy["mode"], (active: string[], maxRuns: number) => Admission> = {
  single: (active) =>
    active.length === 0
      ? { admit: true, status: "pending", supersede: [] }
      : { admit: false, reason: "busy", detail: { message: "mode single: a run is already active", activeRunId: active[0]! } },
  restart: (active) => ({ admit: true, status: "pending", supersede: active }),
  queued: (active, maxRuns) =>
    active.length >= maxRuns
      ? { admit: false, reason: "max_runs", detail: { message: `mode queued: ${active.length} runs active or queued (maxRuns ${maxRuns})` } }
      : { admit: true, status: active.length === 0 ? "pending" : "queued", supersede: [] },
  parallel: (active, maxRuns) =>
    active.length >= maxRuns
      ? { admit: false, reason: "max_runs", detail: { message: `mode parallel: ${active.length} runs active (maxRuns ${maxRuns})` } }
      : { admit: true, status: "pending", supersede: [] },
};

/** Pending runs the decisions may hand to this core's worker (automation-sink.ts, execution/run-handoff.ts). */
export interface AdmissionHandoff {
  /** The worker pool that locks their jobs. */
  workerId: string;
  /** At most this many runs, the first pending ones in decision order. */
  limit: number;
  /** The runs offered, before the statement is sent: if its outcome is unknown, their jobs may exist, locked. */
  offered(runIds: readonly string[]): void;
  /** The runs recorded with their jobs locked, once the statement answered. */
  handed(runs: readonly HandedRun[]): void;
}

/**
 * Decides triggered runs in the caller's transaction, in order: records each run (pending or
 * queued, cancelling the runs it restarts) or skip, each keyed so a repeated call records
 * nothing. Every scope is locked and read once, each decision sees the ones before it (two
 * decisions in one scope, in order, as if made one at a time), and the runs and the skips
 * are one statement each: a router batch costs the same few round trips at any size.
 * `issuedAll` is called once no more statements will be issued (before their answers).
 * `handoff`: the first pending runs get their jobs locked for this core's worker instead.
 * `firstDelivery`: the requests' changes were never decided before (PrepareOptions.firstDelivery):
 * what an earlier decision recorded is not looked for (the runs' and skips' keys still make a
 * repeated insert record nothing).
 */
export async function admitRuns(
  tx: SqlClient,
  requests: readonly RunDecisionRequest[],
  options: { issuedAll?: () => void; handoff?: AdmissionHandoff; firstDelivery?: boolean } = {},
): Promise<Decision[]> {
  if (requests.length === 0) {
    options.issuedAll?.();
    return [];
  }
  const { scopes, earlier } = await readScopes(tx, requests, options.firstDelivery === true);
  const decisions: Decision[] = [];
  const runs: Array<NewRun & { index: number; supersede: string[] }> = [];
  const skips: Array<NewSkip & { index: number }> = [];
  for (const [index, request] of requests.entries()) {
    const { key } = request;
    const skip = (reason: SkipReason, detail: Record<string, unknown>) => skips.push({ index, key, reason, detail, verdicts: request.verdicts });
    const before = earlier.get(index);
    // A redelivered change was decided already: deciding again under the mode would see its own run as busy.
    if (before?.runId) {
      decisions[index] = { key, outcome: "run", runId: before.runId, status: before.status, contextKey: before.contextKey, cancelled: [], recorded: false };
      continue;
    }
    if (before?.reason) {
      decisions[index] = { key, outcome: "skip", reason: before.reason, detail: before.detail ?? {}, recorded: false };
      continue;
    }
    const scope = scopes.get(scopeOf(request))!;
    if (scope.enabled === false && !request.evenIfDisabled) {
      skip("automation_disabled", { message: "the automation is disabled" });
      continue;
    }
    const admission = MODES[request.policy.mode](scope.active, request.policy.maxRuns);
    if (!admission.admit) {
      skip(admission.reason, admission.detail);
      continue;
    }
    // Time-ordered: a run's id keys automation_runs, its steps and its run-status history
    // (entity_id), so a random one put each of those index inserts on a random page, most of
    // them a full-page image after a checkpoint (storage/time-ordered-uuid.ts).
    const runId = timeOrderedUuid();
    runs.push({
      index,
      id: runId,
      key,
      contextKey: request.contextKey,
      trigger: request.trigger,
      verdicts: request.verdicts,
      status: admission.status,
      supersede: admission.supersede,
      automationName: request.automationName,
    });
    // The scope as the batch's next decision sees it (a gone automation records nothing: its scope stays empty).
    if (scope.enabled !== null) {
      const superseded = new Set(admission.supersede);
      scope.active = [...scope.active.filter((id) => !superseded.has(id)), runId];
    }
  }
  const { handoff } = options;
  const offered = handoff
    ? runs
        .filter((run) => run.status === "pending")
        .slice(0, handoff.limit)
        .map((run) => run.id)
    : [];
  if (offered.length > 0) handoff!.offered(offered);
  const locked = offered.length > 0 ? { workerId: handoff!.workerId, runIds: offered } : undefined;
  const writing = settledInOrder([insertRuns(tx, runs, locked), insertSkips(tx, skips)]);
  // Restarts cancel once their runs exist: more statements after the answer.
  const restarts = runs.some((run) => run.supersede.length > 0);
  if (!restarts) options.issuedAll?.();
  const [{ inserted, handed }, recorded] = await writing;
  if (locked) handoff!.handed(handed);
  for (const [i, { index, key, reason, detail }] of skips.entries()) decisions[index] = { key, outcome: "skip", reason, detail, recorded: recorded[i]! };
  for (const run of runs) {
    const runId = inserted.has(run.id) ? run.id : null;
    // Superseded only once the new run exists: a repeated decision restarts nothing.
    const cancelled = runId === null ? [] : await cancelRuns(tx, run.supersede, `restarted: superseded by run ${runId}`);
    decisions[run.index] = { key: run.key, outcome: "run", runId, status: run.status, contextKey: run.contextKey, cancelled, recorded: runId !== null };
  }
  if (restarts) options.issuedAll?.();
  return decisions;
}

/** Decides one triggered run in the caller's transaction (admitRuns for one). */
export async function startRun(tx: SqlClient, key: DecisionKey, request: RunRequest): Promise<Decision> {
  const [decision] = await admitRuns(tx, [{ key, ...request }]);
  return decision!;
}

/**
 * Before ending or cancelling a run: takes its scope's lock when the automation is in mode
 * queued (a run being queued concurrently must see the end, or be promoted by it) or the scope
 * still holds runs queued under an earlier version (run-scopes.ts, endLocksScopeSql). Other
 * scopes queue nothing, so their ends skip the lock and never wait behind the router's
 * transaction. False if the run is gone.
 */
export async function lockScopeOfRun(tx: SqlClient, runId: string): Promise<boolean> {
  const { rows } = await tx.query<{ automation_id: string; context_key: string | null; lock: boolean }>(
    `SELECT run.automation_id, run.context_key, ${endLocksScopeSql("run", "a")} AS lock
     FROM automation_runs run JOIN automations a ON a.id = run.automation_id WHERE run.id = $1`,
    [runId],
  );
  if (!rows[0]) return false;
  if (rows[0].lock) await lockScope(tx, rows[0].automation_id, rows[0].context_key);
  return true;
}

// lockScopeOfRun as one statement that needs no answer first (a run's end sends it pipelined
// with the rest): the key is LockKey.runScope built in SQL, taken on the same condition.
const LOCK_SCOPE_OF_RUN = `
  SELECT pg_advisory_xact_lock(${hashedPrefixedLockKey(HashedLockPrefix.runScope, "run.automation_id::text || ':' || coalesce(run.context_key, '*')")})
  FROM automation_runs run JOIN automations a ON a.id = run.automation_id
  WHERE run.id = $1 AND ${endLocksScopeSql("run", "a")}`;

/** lockScopeOfRun, for a transaction sent in one round trip. */
export const lockScopeOfRunStatement = (runId: string): SqlStatement => ({ text: LOCK_SCOPE_OF_RUN, values: [runId] });

// Once per scope of the ended runs: its oldest queued run becomes pending (with its job),
// unless a run of that scope is still pending or running. Two runs of one scope ending in one
// batch promote what ending them one after the other would: one run, once none is busy.
// Cheap where nothing is queued (nearly every end): each scope's oldest queued run is looked up
// first, in automation_runs_queued alone (a scope with none yields no candidate; MATERIALIZED
// keeps the planner from checking for busy runs first, which reads the scope's active runs),
// and the UPDATE runs only if a run was found: vantage_promote_queued_runs is STRICT and gets
// NULL otherwise, so no statement trigger fires for an UPDATE of no rows (migration 0037).
// Every end checks, whatever the automation's mode is now: runs queued under an earlier
// version's mode queued are promoted all the same.
const PROMOTE_NEXT_QUEUED = `
  WITH scopes AS (SELECT DISTINCT automation_id, context_key FROM automation_runs WHERE id = ANY($1::uuid[])),
  candidates AS MATERIALIZED (
    SELECT e.automation_id, e.context_key, queued.id FROM scopes e
    CROSS JOIN LATERAL (SELECT q.id FROM (${runsOfScope("e", "r.status = 'queued'")}) AS q ORDER BY q.created_at, q.id LIMIT 1) AS queued),
  next AS (SELECT c.id FROM candidates c WHERE NOT EXISTS (${runsOfScope("c", "r.status IN ('pending', 'running')")}))
  SELECT ${addRunJob("promoted.id")} FROM vantage_promote_queued_runs((SELECT array_agg(id) FROM next)) AS promoted (id)`;

/** After runs ended or were cancelled (same transaction, scopes locked): starts the oldest queued run of each of their scopes. */
export const promoteNextQueuedOfRunsStatement = (runIds: readonly string[]): SqlStatement => ({ text: PROMOTE_NEXT_QUEUED, values: [runIds] });

/** After a run ended or was cancelled (same transaction, scope locked): starts the oldest queued run of its scope, if any. */
export async function promoteNextQueued(tx: SqlClient, runId: string): Promise<void> {
  const { text, values } = promoteNextQueuedStatement(runId);
  await tx.query(text, values);
}

/** promoteNextQueued, for a transaction sent in one round trip. */
export const promoteNextQueuedStatement = (runId: string): SqlStatement => promoteNextQueuedOfRunsStatement([runId]);

/** Cancels an active run (an operator's request) and starts the next queued one. False if it was not active. */
export async function cancelRun(tx: SqlClient, runId: string, reason: string): Promise<boolean> {
  if (!(await lockScopeOfRun(tx, runId))) return false;
  const cancelled = await cancelRuns(tx, [runId], reason);
  if (cancelled.length === 0) return false;
  await promoteNextQueued(tx, runId);
  return true;
}
