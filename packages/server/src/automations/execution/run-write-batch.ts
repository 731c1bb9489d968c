// One round trip for the writes that the runs sharing a connection asked for meanwhile: one
// statement per kind of record for all of them (runs/run-record-batches.ts), in a transaction
// for the markers and one for the durable writes, and the answers handed back run by run.
//
// Why: every write of every run was a transaction of its own (BEGIN, a few statements,
// COMMIT); under a mass outage the core spent more CPU on pg's per-statement work and the
// socket writes than on the runs (bench/mass-outage).
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import { type SqlStatement, StatementBatch, statementName } from "../../entities/index.ts";
import { VantageError } from "../../errors.ts";
import type { ClaimedRun, RunEnd, StepRecord } from "../runs/run-records.ts";
import {
  claimOutcomes,
  claimRunsStatement,
  countAttemptsStatement,
  endedRunIds,
  finishRunsStatement,
  finishStepsStatement,
  heldLocks,
  loadStepsOfRunsStatement,
  lockScopesOfRunsStatement,
  openedHandedRuns,
  openHandedRunsStatement,
  startStepsStatement,
  type StepOutcome,
  stepKey,
  stepKeys,
  stepRecordsByRun,
  tryLockRunsStatement,
  unlockRunsStatement,
} from "../runs/run-record-batches.ts";
import { promoteNextQueuedOfRunsStatement } from "../runs/run-admission.ts";
import { completeJobsStatement } from "../runs/automation-jobs.ts";

// A claim, a step's start and an attempt count that a crash of the database loses are the
// same as a crash of the core just before them: the run is claimed again, the step executed
// again with the same Idempotency-Key. A transaction of only those need not wait for the WAL
// flush, which under a mass outage is what the database's sessions wait on most
// (bench/mass-outage); one carrying an outcome or an end does wait. Still atomic, still
// visible at once, and flushed by the next synchronous commit at the latest.
const MARKER = "set_config('synchronous_commit', 'off', true)";

// The run-status changes a transaction records are announced after its commit (migration
// 0035): a NOTIFY inside it would hold PostgreSQL's cluster-wide notify lock until its commit
// reached the disk, and every claim, end and router batch queued behind that lock one flush
// after another (bench/notify-lock, bench/automation-latency).
const ANNOUNCE_AFTER_COMMIT = "set_config('vantage.announce_after_commit', 'on', true)";

// Every statement of a run's transaction (named, so prepared once per connection) runs on its
// generic plan, and so do the statements the run-status triggers run inside it. Why: with the
// default plan_cache_mode, PostgreSQL compares a generic plan's cost with the custom plans' it
// made for the first executions; for `id = ANY($1::uuid[])` it costs the generic plan for ten
// ids and the custom ones for the one or two a batch carries, so it kept planning every
// execution afresh — the promotion of queued runs 0.9 ms per plan, its execution 0.86 ms; all
// the runs' statements ~1.5 ms of planning per change (bench/automation-latency
// --statement-stats). Each generic plan looks its runs and steps up by primary key, the same
// plan the custom ones chose (EXPLAIN (GENERIC_PLAN) at 100,000 runs: docs/benchmarks/2026-12-03-run-cost.md).
// A plan is rebuilt when its tables' statistics change (ANALYZE invalidates it).
const GENERIC_PLANS = "set_config('plan_cache_mode', 'force_generic_plan', true)";

/** Where a transaction's run-status changes are announced once it committed (a ChangeNotifier's announce). */
export type AnnounceChanges = () => void;

/** What a run held back to go first in the transaction of its next write, and what to do once it committed. */
export interface Held {
  outcome?: StepOutcome;
  statement?: SqlStatement;
  then?: () => void;
}

interface Settle<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** A run claimed (or not) under its lock, with its step records. */
export interface Claim {
  held: boolean;
  run: ClaimedRun | null;
  steps: Map<string, StepRecord>;
}

/**
 * A handed run opened without a claim: whether its lock was taken, and — if it was, and the run
 * is still as the router inserted it — the name and definition asked for (null when not asked).
 */
export interface Opening {
  held: boolean;
  asHanded: { name: string | null; definition: unknown } | null;
}

/** A handed run's opening sent with its first step's start: whether its lock was taken, and whether the step started. */
export interface OpenedStart {
  held: boolean;
  /** The run was still as the router inserted it (so the step started); never without `held`. */
  started: boolean;
}

/** One run's write, waiting for the next round trip of its connection. */
export type RunWrite = { runId: string; held: Held[] } & (
  | ({ kind: "claim"; tryLock: boolean } & Settle<Claim>)
  // A handed run's first write, in place of the claim: two reads ahead of the transactions.
  | ({ kind: "open"; xmin: string; needDefinition: boolean } & Settle<Opening>)
  | ({ kind: "start" } & StepStartWrite & Settle<boolean>)
  // A handed run's first write when its definition is known: the opening and its first step's
  // start in one round trip, the start conditioned in SQL on the opening's checks (startStepsStatement).
  | ({ kind: "open-start"; xmin: string } & StepStartWrite & Settle<OpenedStart>)
  | ({ kind: "attempt"; path: string } & Settle<void>)
  // `jobId`: the job executing the run, completed with the end (see completeJobsStatement).
  // `unlock`: the run's lock is held by this connection and given up in the end's transaction;
  // false when the end goes through the ends' connection (run-session.ts, ENDS APART).
  | ({ kind: "end"; result: RunEnd; jobId?: string; unlock: boolean } & Settle<boolean>)
  | ({ kind: "statements"; statements: readonly SqlStatement[]; marker: boolean } & Settle<pg.QueryResult[]>)
  // After the transaction, committed or not: a session lock outlives it.
  | ({ kind: "unlock" } & Settle<void>)
);

interface StepStartWrite {
  path: string;
  stepKind: string;
  input: JsonValue;
  output: JsonValue | null;
  countAttempt: boolean;
}

type Of<K extends RunWrite["kind"]> = Extract<RunWrite, { kind: K }>;

const MARKERS = new Set<RunWrite["kind"]>(["claim", "start", "open-start", "attempt"]);

/** A write that only marks progress a crash may lose: it carries nothing held back. */
const isMarker = (write: RunWrite): boolean => write.held.length === 0 && (MARKERS.has(write.kind) || (write.kind === "statements" && write.marker));

/**
 * Sends `writes` in one round trip on `client` (pipelined; `ready` is what must be answered
 * first — a lock waited for) and settles each. The markers go first, in a transaction of their
 * own that does not wait for the WAL flush, and are settled as soon as it is answered; the
 * writes that must be durable follow in a second one, the unlocks after both. If a
 * transaction fails, nothing of it was written: each of its writes is sent again alone, so
 * only the one that fails fails.
 *
 * Why two: the backend answers nothing behind a COMMIT that waits for the WAL flush (2–10 ms
 * on a loaded disk). In one transaction, the claims and step starts of the runs in flight
 * waited for the flush of the ends sent with them — at 200 runs/s nearly every round trip
 * carries ends — and a run's webhook went out two flushes after its claim (bench/automation-latency).
 */
export async function sendRunWrites(client: pg.ClientBase, ready: Promise<unknown>, writes: readonly RunWrite[], announce?: AnnounceChanges): Promise<void> {
  const opens = writes.filter((write): write is Of<"open"> => write.kind === "open");
  const openStarts = writes.filter((write): write is Of<"open-start"> => write.kind === "open-start");
  // Whether each opening took its run's lock, once the first statement below answered.
  const locked = new Map<string, boolean>();
  const transactions = [writes.filter(isMarker), writes.filter((write) => write.kind !== "unlock" && write.kind !== "open" && !isMarker(write))]
    .filter((group) => group.length > 0)
    .map((group) => ({ writes: group, ...plan(group, announce, locked) }));
  const unlocks = writes.filter((write): write is Of<"unlock"> => write.kind === "unlock");
  // The openings first (their runs write nothing else in this round trip but an opening's first
  // start, which the markers' transaction conditions on them): the locks tried, then the reads.
  const lockedRunIds = [...opens, ...openStarts].map((open) => open.runId);
  const opening =
    lockedRunIds.length > 0
      ? [
          client.query(named(tryLockRunsStatement(lockedRunIds))),
          ...(opens.length > 0
            ? [client.query(named(openHandedRunsStatement(opens.map((open) => ({ runId: open.runId, xmin: open.xmin, needDefinition: open.needDefinition })))))]
            : []),
        ]
      : [];
  const issued = transactions.map(({ statements }) => issueTransaction(client, statements));
  const unlocking = unlocks.length > 0 ? client.query(named(unlockRunsStatement(unlocks.map((write) => write.runId)))) : undefined;
  // Every statement is settled (no rejection left unhandled), whatever is awaited first below.
  const everything = Promise.allSettled([ready, ...opening, ...issued.flat(), ...(unlocking ? [unlocking] : [])]);
  const [waited] = await Promise.allSettled([ready]);
  if (waited!.status === "rejected") {
    await everything;
    // No lock, no writes (the connection broke: nothing it sent counts).
    for (const write of writes) write.reject(waited!.reason as Error);
    return;
  }
  if (opening.length > 0) {
    const [tried, read] = await Promise.allSettled(opening);
    if (tried!.status === "fulfilled") for (const [runId, held] of heldLocks(tried!.value)) locked.set(runId, held);
    if (tried!.status === "fulfilled" && (read === undefined || read.status === "fulfilled")) {
      const asHanded = read ? openedHandedRuns(read.value) : new Map();
      for (const open of opens) {
        const runHeld = locked.get(open.runId) === true;
        open.resolve({ held: runHeld, asHanded: (runHeld && asHanded.get(open.runId)) || null });
      }
    } else {
      // A lock taken before the read failed is given up by the run's session (its unlock); the
      // openings' starts are answered with the failure (whatever their transaction did, the run
      // was not opened, and is not executed here).
      const failure = [tried!, read].find((outcome): outcome is PromiseRejectedResult => outcome?.status === "rejected")!;
      for (const open of [...opens, ...openStarts]) open.reject(failure.reason as Error);
    }
  }
  const again: RunWrite[] = [];
  for (const [index, transaction] of transactions.entries()) {
    const settled = await Promise.allSettled(issued[index]!);
    const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (!failure) transaction.read(settled.map((outcome) => (outcome as PromiseFulfilledResult<pg.QueryResult>).value));
    else if (transaction.writes.length === 1) transaction.writes[0]!.reject(failure.reason as Error);
    // An opening whose lock could not be tried was answered already (above): not sent again.
    else again.push(...transaction.writes.filter((write) => write.kind !== "open-start" || locked.has(write.runId)));
  }
  // The unlocks were sent after the transactions, whatever became of them.
  if (unlocking) {
    const [unlocked] = await Promise.allSettled([unlocking]);
    for (const unlock of unlocks) {
      if (unlocked!.status === "fulfilled") unlock.resolve();
      else unlock.reject(unlocked!.reason as Error);
    }
  }
  await everything;
  if (again.length === 0) return;
  // The transaction rolled back, but the locks its claims and openings took are session locks:
  // give them up before they are sent again (a lock not held only draws a warning).
  const relock = again.filter((write) => write.kind === "claim" || (write.kind === "open-start" && locked.get(write.runId) === true));
  if (relock.length > 0) await client.query(named(unlockRunsStatement(relock.map((write) => write.runId)))).catch(() => undefined);
  for (const write of again) await sendRunWrites(client, ready, [write], announce);
}

/**
 * Issues one transaction's statements (BEGIN first, COMMIT last) on the pipelined `client` and
 * returns their results in order: everything up to the COMMIT as one batch of the extended
 * protocol closed by one Sync (statement-batch.ts), the COMMIT behind it on its own.
 *
 * Why: with pg's Sync behind every statement, a round trip of two transactions was about
 * fifteen statements, each answered with a ReadyForQuery the backend flushed on its own and
 * pg handled as a query of its own (bench/automation-latency). Named (prepared once per
 * connection), the batch's statements are not parsed and planned again at every round trip
 * either: planning the claim, the end and the promotion of queued runs, with their CTEs and
 * triggers, was a fifth of the database's time on the runs' path (--statement-stats).
 *
 * The COMMIT stays out of the batch so that it always runs: a statement that fails makes the
 * server skip the rest of its batch up to the Sync (each skipped one is failed with 25P02, as
 * pg's per-statement Sync failed them), and the COMMIT behind the Sync then finds the aborted
 * transaction and answers ROLLBACK, leaving the connection outside a transaction for whatever
 * was sent after it — the next transaction, the unlocks.
 */
function issueTransaction(client: pg.ClientBase, statements: readonly SqlStatement[]): Array<Promise<pg.QueryResult>> {
  const batch = new StatementBatch();
  const body = statements
    .slice(0, -1)
    .map((statement) => batch.add({ text: statement.text, name: statementName(statement.text), values: statement.values ?? [] }));
  void client.query(batch as unknown as pg.QueryConfig);
  return [...body, client.query(statements.at(-1)!.text)];
}

/** The statement with the name its text is prepared under on every connection. */
const named = (statement: SqlStatement): pg.QueryConfig => ({ name: statementName(statement.text), text: statement.text, values: statement.values });

/**
 * The statements of one transaction (writes of one kind: all markers, or none), and how their
 * results settle the writes. With `announce`, the run-status changes it records are announced
 * through it once it committed, not by a NOTIFY inside it.
 */
function plan(
  writes: readonly RunWrite[],
  announce: AnnounceChanges | undefined,
  locked: ReadonlyMap<string, boolean>,
): { statements: SqlStatement[]; read(results: pg.QueryResult[]): void } {
  const of = <K extends RunWrite["kind"]>(kind: K) => writes.filter((write): write is Of<K> => write.kind === kind);
  const claims = of("claim");
  // A handed run's first start is sent with the others, conditioned on its opening.
  const starts = [...of("start"), ...of("open-start")];
  const attempts = of("attempt");
  const ends = of("end");
  const generic = of("statements");
  const held = writes.flatMap((write) => write.held);
  const outcomes = held.flatMap((entry) => (entry.outcome ? [entry.outcome] : []));
  const marker = writes.every(isMarker);

  // Claims and ends move runs; a held-back or generic statement may. Starts, attempts and outcomes do not.
  const movesRuns = claims.length > 0 || ends.length > 0 || generic.length > 0 || held.some((entry) => entry.statement);

  const statements: SqlStatement[] = [{ text: "BEGIN" }];
  const at = (statement: SqlStatement): number => statements.push(statement) - 1;
  const settings = [GENERIC_PLANS, ...(marker ? [MARKER] : []), ...(announce && movesRuns ? [ANNOUNCE_AFTER_COMMIT] : [])];
  at({ text: `SELECT ${settings.join(", ")}` });
  for (const entry of held) if (entry.statement) at(entry.statement);
  if (outcomes.length > 0) at(finishStepsStatement(outcomes));
  const claimAt = claims.length > 0 ? at(claimRunsStatement(claims.map((c) => ({ runId: c.runId, tryLock: c.tryLock })))) : -1;
  const stepsAt = claims.length > 0 ? at(loadStepsOfRunsStatement(claims.map((c) => c.runId))) : -1;
  const startAt =
    starts.length > 0
      ? at(
          startStepsStatement(
            starts.map((s) => ({
              runId: s.runId,
              path: s.path,
              kind: s.stepKind,
              input: s.input,
              output: s.output,
              countAttempt: s.countAttempt,
              openedXmin: s.kind === "open-start" ? s.xmin : undefined,
            })),
          ),
        )
      : -1;
  if (attempts.length > 0) at(countAttemptsStatement(attempts.map((a) => ({ runId: a.runId, path: a.path }))));
  const genericAt = generic.map((write) => write.statements.map(at));
  let finishAt = -1;
  if (ends.length > 0) {
    const ids = ends.map((end) => end.runId);
    at(lockScopesOfRunsStatement(ids));
    finishAt = at(finishRunsStatement(ends.map((end) => ({ runId: end.runId, result: end.result }))));
    at(promoteNextQueuedOfRunsStatement(ids));
    const jobIds = ends.flatMap((end) => (end.jobId === undefined ? [] : [end.jobId]));
    if (jobIds.length > 0) at(completeJobsStatement(jobIds));
    // Inside the transaction: if it fails, the locks are still held for the ends sent again
    // alone. Given up before COMMIT is safe: another execution's claim waits for this
    // transaction's row locks, then finds the run ended.
    const unlocking = ends.filter((end) => end.unlock).map((end) => end.runId);
    if (unlocking.length > 0) at(unlockRunsStatement(unlocking));
  }
  const commitAt = at({ text: "COMMIT" });

  const read = (results: pg.QueryResult[]) => {
    // COMMIT of a transaction in which a statement failed and was caught rolls back.
    if (results[commitAt]!.command !== "COMMIT") {
      const error = new VantageError("transient", "internal", "The run's records were rolled back: one of their statements failed.");
      for (const write of writes) write.reject(error);
      return;
    }
    if (announce && movesRuns) announce();
    for (const entry of held) entry.then?.();
    if (claims.length > 0) {
      const found = claimOutcomes(results[claimAt]!);
      const steps = stepRecordsByRun(results[stepsAt]!);
      for (const claim of claims) {
        const outcome = found.get(claim.runId);
        if (!outcome) claim.reject(new VantageError("transient", "internal", "The run's claim returned no row."));
        else claim.resolve({ ...outcome, steps: (outcome.run && steps.get(claim.runId)) || new Map() });
      }
    }
    if (starts.length > 0) {
      const started = stepKeys(results[startAt]!);
      for (const start of starts) {
        const didStart = started.has(stepKey(start.runId, start.path));
        // (An opening whose lock could not be tried was rejected already: resolving it does nothing.)
        if (start.kind === "open-start") start.resolve({ held: locked.get(start.runId) === true, started: didStart });
        else start.resolve(didStart);
      }
    }
    for (const attempt of attempts) attempt.resolve();
    generic.forEach((write, i) => write.resolve(genericAt[i]!.map((index) => results[index]!)));
    if (ends.length > 0) {
      const ended = endedRunIds(results[finishAt]!);
      for (const end of ends) end.resolve(ended.has(end.runId));
    }
  };
  return { statements, read };
}
