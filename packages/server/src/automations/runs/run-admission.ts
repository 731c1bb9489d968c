// Run modes (single, restart, queued, parallel) and maxRuns, per automation or per context:
// whether a triggered run starts, waits its turn or is skipped, and which queued run starts
// when one ends. Every decision, and every end in mode queued, takes the scope's
// transaction-level advisory lock first, so a run ending while another is queued can never
// strand it.
import type { AutomationDefinition } from "@vantage/protocol";
import type { SqlClient, SqlStatement } from "../../entities/index.ts";
import { ACTIVE_RUN_STATUSES, type DecisionKey, insertRun, insertSkip, type RunTrigger, type SkipReason, type Verdict } from "./automation-runs.ts";
import { HashedLockPrefix, hashedLockKey, hashedPrefixedLockKey, LockKey } from "../../storage/index.ts";
import { addRunJob, removeRunJob } from "./automation-jobs.ts";
import { cancelOpenSteps } from "./run-records.ts";
import { clearRunsWaits } from "./run-waits.ts";

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
}

const ACTIVE = `status IN (${ACTIVE_RUN_STATUSES.map((status) => `'${status}'`).join(", ")})`;

/** Serializes decisions and ends within one scope until the transaction ends. */
async function lockScope(tx: SqlClient, automationId: string, contextKey: string | null): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${hashedLockKey("$1")})`, [LockKey.runScope(automationId, contextKey)]);
}

// A null context key means the automation is one scope: every active run of it counts.
const SCOPE = "automation_id = $1 AND ($2::text IS NULL OR context_key = $2)";

/** Cancels runs, closes their open steps and drops their jobs (a locked job is left to find its run cancelled). */
async function cancelRuns(tx: SqlClient, runIds: readonly string[], reason: string): Promise<string[]> {
  if (runIds.length === 0) return [];
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE automation_runs SET status = 'cancelled', error = $2, finished_at = clock_timestamp()
     WHERE id = ANY($1::uuid[]) AND ${ACTIVE} RETURNING id`,
    [runIds, reason],
  );
  const ids = rows.map((row) => row.id);
  await tx.query(`SELECT ${removeRunJob("id")} FROM unnest($1::uuid[]) AS id`, [ids]);
  await clearRunsWaits(tx, ids);
  await cancelOpenSteps(tx, ids);
  return ids;
}

interface ScopeState {
  enabled: boolean | null;
  earlierRun: { runId: string; status: "pending" | "queued"; contextKey: string | null } | null;
  earlierSkip: { reason: SkipReason; detail: Record<string, unknown> } | null;
  /** The scope's active runs, oldest first. */
  active: string[];
}

// Everything a decision reads, in one round trip (after the scope lock, so it sees every
// decision and end committed before): the automation's switch, what an earlier delivery of
// the same change decided (a NULL change id, a manual run, matches nothing), the active runs.
const SCOPE_STATE = `
  SELECT
    (SELECT enabled FROM automations WHERE id = $1) AS enabled,
    (SELECT json_build_object('runId', id, 'status', status, 'contextKey', context_key) FROM automation_runs
      WHERE automation_id = $1 AND trigger_id = $3 AND change_id = $4) AS "earlierRun",
    (SELECT json_build_object('reason', reason, 'detail', detail) FROM automation_skips
      WHERE automation_id = $1 AND trigger_id = $3 AND change_id = $4) AS "earlierSkip",
    (SELECT coalesce(json_agg(id ORDER BY created_at, id), '[]') FROM automation_runs WHERE ${SCOPE} AND ${ACTIVE}) AS active`;

async function scopeState(tx: SqlClient, key: DecisionKey, contextKey: string | null): Promise<ScopeState> {
  const { rows } = await tx.query<ScopeState>(SCOPE_STATE, [key.automationId, contextKey, key.triggerId, key.changeId]);
  return rows[0]!;
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

/**
 * Decides one triggered run in the caller's transaction: records the run (pending or queued,
 * cancelling the runs it restarts) or the skip, each keyed so a repeated call records nothing.
 */
export async function startRun(tx: SqlClient, key: DecisionKey, request: RunRequest): Promise<Decision> {
  const skip = async (reason: SkipReason, detail: Record<string, unknown>): Promise<Decision> => ({
    key,
    outcome: "skip",
    reason,
    detail,
    recorded: await insertSkip(tx, key, reason, detail, request.verdicts),
  });
  await lockScope(tx, key.automationId, request.contextKey);
  const state = await scopeState(tx, key, request.contextKey);
  // A redelivered change was decided already: deciding again under the mode would see its own run as busy.
  if (state.earlierRun) return { key, outcome: "run", ...state.earlierRun, cancelled: [], recorded: false };
  if (state.earlierSkip) return { key, outcome: "skip", ...state.earlierSkip, recorded: false };
  if (state.enabled === false && !request.evenIfDisabled) return skip("automation_disabled", { message: "the automation is disabled" });
  const admission = MODES[request.policy.mode](state.active, request.policy.maxRuns);
  if (!admission.admit) return skip(admission.reason, admission.detail);
  const runId = await insertRun(tx, key, { contextKey: request.contextKey, trigger: request.trigger, verdicts: request.verdicts, status: admission.status });
  // Superseded only once the new run exists: a repeated decision restarts nothing.
  const cancelled = runId === null ? [] : await cancelRuns(tx, admission.supersede, `restarted: superseded by run ${runId}`);
  return { key, outcome: "run", runId, status: admission.status, contextKey: request.contextKey, cancelled, recorded: runId !== null };
}

/**
 * Before ending or cancelling a run: takes its scope's lock when the automation is in mode
 * queued (a run being queued concurrently must see the end, or be promoted by it). Other modes
 * queue nothing, so their ends skip the lock and never wait behind the router's transaction.
 * False if the run is gone.
 */
export async function lockScopeOfRun(tx: SqlClient, runId: string): Promise<boolean> {
  const { rows } = await tx.query<{ automation_id: string; context_key: string | null; mode: string }>(
    "SELECT r.automation_id, r.context_key, a.definition->>'mode' AS mode FROM automation_runs r JOIN automations a ON a.id = r.automation_id WHERE r.id = $1",
    [runId],
  );
  if (!rows[0]) return false;
  if (rows[0].mode === "queued") await lockScope(tx, rows[0].automation_id, rows[0].context_key);
  return true;
}

// lockScopeOfRun as one statement that needs no answer first (a run's end sends it pipelined
// with the rest): the key is LockKey.runScope built in SQL, taken only in mode queued.
const LOCK_SCOPE_OF_RUN = `
  SELECT pg_advisory_xact_lock(${hashedPrefixedLockKey(HashedLockPrefix.runScope, "r.automation_id::text || ':' || coalesce(r.context_key, '*')")})
  FROM automation_runs r JOIN automations a ON a.id = r.automation_id
  WHERE r.id = $1 AND a.definition->>'mode' = 'queued'`;

/** lockScopeOfRun, for a transaction sent in one round trip. */
export const lockScopeOfRunStatement = (runId: string): SqlStatement => ({ text: LOCK_SCOPE_OF_RUN, values: [runId] });

// The oldest queued run of the ended run's scope becomes pending (with its job), unless a
// run of that scope is still pending or running.
const PROMOTE = `
  WITH ended AS (SELECT automation_id, context_key FROM automation_runs WHERE id = $1),
  next AS (
    SELECT r.id FROM automation_runs r, ended e
    WHERE r.automation_id = e.automation_id AND r.context_key IS NOT DISTINCT FROM e.context_key AND r.status = 'queued'
      AND NOT EXISTS (
        SELECT 1 FROM automation_runs busy
        WHERE busy.automation_id = e.automation_id AND busy.context_key IS NOT DISTINCT FROM e.context_key AND busy.status IN ('pending', 'running'))
    ORDER BY r.created_at, r.id LIMIT 1),
  promoted AS (UPDATE automation_runs SET status = 'pending' FROM next WHERE automation_runs.id = next.id RETURNING automation_runs.id)
  SELECT ${addRunJob("id")} FROM promoted`;

/** After a run ended or was cancelled (same transaction, scope locked): starts the oldest queued run of its scope, if any. */
export async function promoteNextQueued(tx: SqlClient, runId: string): Promise<void> {
  const { text, values } = promoteNextQueuedStatement(runId);
  await tx.query(text, values);
}

/** promoteNextQueued, for a transaction sent in one round trip. */
export const promoteNextQueuedStatement = (runId: string): SqlStatement => ({ text: PROMOTE, values: [runId] });

/** Cancels an active run (an operator's request) and starts the next queued one. False if it was not active. */
export async function cancelRun(tx: SqlClient, runId: string, reason: string): Promise<boolean> {
  if (!(await lockScopeOfRun(tx, runId))) return false;
  const cancelled = await cancelRuns(tx, [runId], reason);
  if (cancelled.length === 0) return false;
  await promoteNextQueued(tx, runId);
  return true;
}
