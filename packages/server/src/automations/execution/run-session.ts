// Where an execution of a run holds the run's session advisory lock and writes its records:
// a few connections in pg's pipeline mode, each shared by many runs, whose writes travel
// together: what the runs on a connection ask for while its last round trip is out is sent
// in the next one, as one transaction with one statement per kind of record for all of them
// (run-write-batch.ts).
//
// Why: a run of one webhook made about fifteen round trips (bench/mass-outage), each a wake-up
// of the core and of a backend, which on a loaded machine cost more than the statements, and
// each run in flight held a connection of its own, so few ran at once. Here the lock, the claim
// and the step records share one write; a step's outcome is held back (`finish`) and sent in
// the transaction of the run's next write — the next step's start, or the run's end — and the
// unlock rides with the end. A step's outcome is still stored before the next step executes
// (its start is answered after the outcome's commit), and one lost with the process is the
// same as a crash between the step and its record: the step runs again on resume, a webhook
// with the same Idempotency-Key. A start that carries nothing held back (`uncommitted` false)
// may still be in flight while its step executes (run-executor.ts, OVERLAPPED START).
//
// A run the router handed over already claimed (run-handoff.ts) is opened without the claim: its
// first write tries its lock and checks the run is still as the router inserted it (withHandedRun).
// When the executor knows its definition, that first write is its first step's start, which goes
// with the opening in one round trip and is stored only if the opening found the run as handed.
//
// ENDS APART. The runs' ends (with the outcomes they carry) from every shared connection go
// through one connection of their own, held while any shared connection is open: the
// shared connections then carry only markers — claims, openings, step starts, which commit
// without waiting for the WAL flush — and a handed run's first start no longer waits behind
// another run's end flushing on the same backend (the backend answers nothing behind a COMMIT
// waiting for the flush: bench/automation-latency, "claimed → webhook"). The ends, one round
// trip at a time there, batch up while the previous batch flushes: fewer flushes and
// statements per run. A run's end is sent only once every write it sent before was answered
// (nothing of it can commit after its end), and the run's lock, held by its shared
// connection, is given up there once the end was answered — never before: another execution
// would claim a run still running.
//
// A shared connection only ever *tries* the lock (a blocking one would stall every run behind
// it): a run whose lock is held elsewhere — another process executing it, or this one — takes
// a connection of its own and waits there, as every run did before.
import type { JsonValue } from "@vantage/protocol";
import type pg from "pg";
import { setPipelined, type SqlStatement } from "../../entities/index.ts";
import { hashedLockKey, LockKey } from "../../storage/index.ts";
import type { ClaimedRun, RunEnd, StepRecord, StepResult } from "../runs/run-records.ts";
import { type AnnounceChanges, type Claim, type Held, type OpenedStart, type Opening, type RunWrite, sendRunWrites } from "./run-write-batch.ts";
import type { HandedRun } from "../runs/automation-runs.ts";

// Session-level: a second job for the run (a wake while this one executes, or a job unlocked by
// the lease sweeper while a slow process still runs it) waits here, then finds the stored
// steps. Released when the connection is (even if it broke).
const LOCK_RUN = `SELECT pg_advisory_lock(${hashedLockKey("$1")})`;

export interface RunSession {
  /**
   * Records the step as running with its input (a marker); false if the run is no longer
   * running. `countAttempt`: its first attempt is counted with it (one round trip, not two).
   */
  start(path: string, kind: string, input: JsonValue, output: JsonValue | null, countAttempt?: boolean): Promise<boolean>;
  /** Counts an attempt of the step before it is made (a marker). */
  countAttempt(path: string): Promise<void>;
  /** Holds the step's outcome back to go first in the next write's transaction; `then` runs once it committed. */
  finish(path: string, result: StepResult, then?: () => void): void;
  /**
   * True while something the run held back (an outcome, a statement) has not committed: still
   * held, or sent and not answered yet. While false, the run's next start is a marker alone.
   */
  uncommitted(): boolean;
  /**
   * Ends the run (its open steps closed, its waits dropped, the next queued run of its scope
   * promoted, the job executing it completed) and gives up its lock; false if it was no longer running.
   */
  end(result: RunEnd): Promise<boolean>;
  /** Holds `statement` back to go first in the next `write`'s transaction; `then` runs once it committed. */
  defer(statement: SqlStatement, then?: () => void): void;
  /**
   * Sends the held-back statements and `statements` in one round trip, in one transaction,
   * and returns the results of `statements`. `marker`: the write only marks progress that a
   * crash may lose, so its commit does not wait for the WAL to reach the disk — unless it
   * carries held-back outcomes, or shares its transaction with writes that must wait.
   */
  write(statements: readonly SqlStatement[], options?: WriteOptions): Promise<pg.QueryResult[]>;
  /** Sends whatever is held back (before a write that goes through another connection). */
  flush(): Promise<void>;
  /** Gives up the run's lock, behind whatever was sent; once, however often it is called. */
  unlock(): Promise<void>;
}

export interface WriteOptions {
  /** Progress a crash may lose: its commit need not wait for the WAL flush. */
  marker?: boolean;
  /** The run's last write: the unlock goes right behind it (see `unlock`). */
  unlock?: boolean;
}

/** A run claimed under its lock, with its step records as stored. */
export interface OpenedRun {
  session: RunSession;
  run: ClaimedRun;
  steps: Map<string, StepRecord>;
}

export interface RunSessions {
  /**
   * Locks and claims the run and calls `fn` with it; the lock is given up when `fn` settles
   * (if `fn` did not give it up with its last write). Does nothing if the run cannot be
   * claimed (ended, queued, cancelled or gone): a late or repeated job. `jobId`: the
   * graphile-worker job executing the run, deleted in the transaction of the run's end.
   */
  withClaimedRun(runId: string, fn: (opened: OpenedRun) => Promise<void>, jobId?: string): Promise<void>;
  /**
   * As withClaimedRun for a run the router handed over already claimed (HandedRun): its first
   * write tries its lock and checks the run is still the row the router inserted — no claim, no
   * steps to load (it has none) — and `fn` gets it as handed. Otherwise (the lock held elsewhere,
   * or the run changed since: cancelled, or claimed by another execution) it is claimed as any
   * run is, waiting for its lock on a connection of its own if need be.
   * `needsDefinition`: the executor has not compiled this version (its definition is read then).
   */
  withHandedRun(
    handed: HandedRun,
    needsDefinition: (automationId: string, version: number) => boolean,
    fn: (opened: OpenedRun) => Promise<void>,
  ): Promise<void>;
}

/** A pipelined connection, the runs on it and their writes waiting for its next round trip. */
interface Channel {
  client: Promise<pg.PoolClient>;
  /** Answered before the first write (a lock waited for on a connection of its own). */
  ready: Promise<unknown>;
  users: number;
  broken?: Error;
  waiting: RunWrite[];
  /** A round trip is out, or about to go: writes asked for meanwhile wait for the next. */
  busy: boolean;
  announce?: AnnounceChanges;
  /**
   * The ends' channel (ENDS APART): the connection its round trips go on (`take`), and what to do
   * once a drain's writes were answered (`giveBack`: destroyed if one failed, as it may be broken).
   */
  lend?: { take(): Promise<pg.PoolClient>; giveBack(client: Promise<pg.PoolClient>, failed: Error | undefined): void };
}

const openChannel = (client: Promise<pg.PoolClient>, announce: AnnounceChanges | undefined, ready: Promise<unknown> = Promise.resolve()): Channel => ({
  client,
  announce,
  ready,
  users: 0,
  waiting: [],
  busy: false,
});

/**
 * Queues a write for the channel's next round trip. One round trip at a time per channel:
 * the writes of the runs that were answered by one are sent together in the next, so the
 * more runs are in flight, the more each round trip carries.
 */
function enqueue(channel: Channel, write: RunWrite): void {
  channel.waiting.push(write);
  if (channel.busy) return;
  channel.busy = true;
  // After this turn of the event loop: the runs answered together ask together.
  setImmediate(() => void drain(channel));
}

async function drain(channel: Channel): Promise<void> {
  const connection = channel.lend ? channel.lend.take() : channel.client;
  let failed: Error | undefined;
  const noticeFailure = (write: RunWrite): RunWrite => ({
    ...write,
    reject: (error: Error) => {
      failed ??= error;
      write.reject(error);
    },
  });
  try {
    while (channel.waiting.length > 0) {
      const writes = channel.lend ? channel.waiting.splice(0).map(noticeFailure) : channel.waiting.splice(0);
      let client: pg.PoolClient;
      try {
        client = await connection;
      } catch (error) {
        for (const write of writes) write.reject(error as Error);
        continue;
      }
      await sendRunWrites(client, channel.ready, writes, channel.announce);
      // Let the runs answered ask for their next writes before the next round trip leaves.
      if (channel.waiting.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    channel.busy = false;
    channel.lend?.giveBack(connection, failed);
  }
}

export interface RunSessionsOptions {
  /** How many shared connections at most (runs beyond share them). */
  connections: number;
  /**
   * Announces the run-status changes of a committed write (a ChangeNotifier's announce), so
   * its transaction sends no NOTIFY of its own (migration 0035). Absent: the triggers notify.
   */
  announce?: AnnounceChanges;
}

export function createRunSessions(pool: pg.Pool, options: RunSessionsOptions): RunSessions {
  const channels: Channel[] = [];
  // Runs executing in this process: session locks are re-entrant, so a second execution of one
  // run must not try its lock on a connection that may hold it already.
  const executing = new Set<string>();

  const connect = () => {
    const client = pool.connect().then((connected) => {
      setPipelined(connected, true);
      return connected;
    });
    client.catch(() => undefined); // awaited by every run on it
    return client;
  };

  // The ends' connection (ENDS APART), held while any shared connection is: asked of the pool
  // before the first shared one, so a run that holds its lock never waits for the pool to end —
  // the pool may be taken by runs waiting for that very lock on connections of their own.
  let endsConnection: Promise<pg.PoolClient> | undefined;
  const takeEnds = () => (endsConnection ??= connect());
  const giveEndsBack = (failed?: Error) => {
    const client = endsConnection;
    endsConnection = undefined;
    void client?.then(
      (connected) => {
        setPipelined(connected, false);
        connected.release(failed);
      },
      () => undefined,
    );
  };
  const ends: Channel = {
    ...openChannel(Promise.reject(new Error("The ends' channel has no connection of its own.")), options.announce),
    lend: {
      take: takeEnds,
      giveBack: (client, failed) => {
        // One that failed may be broken: destroyed, and the next ends ask for another.
        if (failed) {
          if (client === endsConnection) giveEndsBack(failed);
        } else if (channels.length === 0) giveEndsBack();
      },
    },
  };
  ends.client.catch(() => undefined); // never used: see lend

  const join = (): Channel => {
    const least = channels.reduce<Channel | undefined>((best, channel) => (best && best.users <= channel.users ? best : channel), undefined);
    let channel = least;
    if (!channel || (channel.users > 0 && channels.length < options.connections)) {
      void takeEnds();
      channel = openChannel(connect(), options.announce);
      channels.push(channel);
    }
    channel.users++;
    return channel;
  };

  const leave = async (channel: Channel, broken: Error | undefined) => {
    channel.broken ??= broken;
    channel.users--;
    // A broken connection takes no new runs; the last run on it sends it back (destroyed).
    if (channel.users > 0 && !channel.broken) return;
    const index = channels.indexOf(channel);
    if (index >= 0) channels.splice(index, 1);
    if (channels.length === 0 && !ends.busy) giveEndsBack();
    if (channel.users > 0) return;
    const client = await channel.client.catch(() => undefined);
    if (!client) return;
    setPipelined(client, false);
    client.release(channel.broken);
  };

  /** The claim's opening of a run: tries the lock, claims it only if taken. */
  const claimOpening = async (session: SharedSession): Promise<{ held: boolean; opened: OpenedRun | null }> => {
    const claim = await session.claim(true);
    return { held: claim.held, opened: openedByClaim(session, claim) };
  };

  /** On a shared connection: false if the lock was held elsewhere (nothing was claimed then). */
  const onShared = async (
    runId: string,
    jobId: string | undefined,
    fn: (opened: OpenedRun) => Promise<void>,
    open: (session: SharedSession) => Promise<{ held: boolean; opened: OpenedRun | null }> = claimOpening,
  ): Promise<boolean> => {
    const channel = join();
    let broken: Error | undefined;
    try {
      await channel.client.catch((error: Error) => {
        broken = error; // a connection that failed to open takes its runs with it
        throw error;
      });
      const session = runSession(channel, runId, jobId, (error) => (broken = error), ends);
      let held: boolean | undefined;
      try {
        const opening = await open(session);
        held = opening.held;
        if (opening.opened) await fn(opening.opened);
      } finally {
        // A session lock outlives a failed statement, and the connection goes back to the pool:
        // given up unless it surely was not taken (unlocking a lock not held only warns).
        if (held !== false) await session.unlock();
      }
      return held;
    } finally {
      await leave(channel, broken);
    }
  };

  /** On a connection of its own, waiting for the lock. */
  const onOwn = async (runId: string, jobId: string | undefined, fn: (opened: OpenedRun) => Promise<void>): Promise<void> => {
    const client = await pool.connect();
    setPipelined(client, true);
    let broken: Error | undefined;
    // Not awaited here: the lock travels with the claim.
    const locked = client.query(LOCK_RUN, [LockKey.run(runId)]);
    locked.catch((error: Error) => {
      broken = error; // and every write fails with it
    });
    const channel = openChannel(Promise.resolve(client), options.announce, locked);
    const session = runSession(channel, runId, jobId, (error) => (broken = error));
    try {
      const claim = await session.claim(false);
      const opened = openedByClaim(session, claim);
      if (opened) await fn(opened);
    } finally {
      await locked.catch(() => undefined);
      // Without the lock (the connection broke) there is nothing to give up.
      if (!broken) await session.unlock();
      setPipelined(client, false);
      client.release(broken);
    }
  };

  /**
   * One execution of the run in this process at a time: on a shared connection when its lock is
   * free (opened by `open`), else on a connection of its own that waits for the lock and claims it.
   */
  const withRun = async (
    runId: string,
    jobId: string | undefined,
    fn: (opened: OpenedRun) => Promise<void>,
    open?: (session: SharedSession) => Promise<{ held: boolean; opened: OpenedRun | null }>,
  ): Promise<void> => {
    if (executing.has(runId)) return onOwn(runId, jobId, fn);
    executing.add(runId);
    try {
      if (await onShared(runId, jobId, fn, open)) return;
      await onOwn(runId, jobId, fn);
    } finally {
      executing.delete(runId);
    }
  };

  return {
    withClaimedRun: (runId, fn, jobId) => withRun(runId, jobId, fn),
    withHandedRun(handed, needsDefinition, fn) {
      const { runId, jobId } = handed;
      const needDefinition = handed.automationName === null || needsDefinition(handed.automationId, handed.automationVersion);
      const handedRun = (asHanded: NonNullable<Opening["asHanded"]>): ClaimedRun => ({
        id: runId,
        automationId: handed.automationId,
        automationName: asHanded.name ?? handed.automationName ?? "",
        automationVersion: handed.automationVersion,
        definition: asHanded.definition,
        trigger: handed.trigger,
      });
      // Held, but no longer as handed (cancelled, or another execution claimed it): claimed
      // under the lock this connection holds now, as a resumed run is.
      const claimHeld = async (session: SharedSession) => ({ held: true, opened: openedByClaim(session, await session.claim(false)) });

      const openHanded = async (session: SharedSession): Promise<{ held: boolean; opened: OpenedRun | null }> => {
        const { held, asHanded } = await session.open(handed.xmin, needDefinition);
        if (!held) return { held, opened: null };
        if (!asHanded) return claimHeld(session);
        // Created by the router's transaction, and unchanged since: no step recorded yet.
        return { held, opened: { session, run: handedRun(asHanded), steps: new Map() } };
      };

      // The definition known: executed at once, as handed, its opening sent with its first write
      // (see openingWithFirstWrite); if that opening finds the run not as handed, this execution
      // wrote nothing and did nothing, and the run takes the claim's path.
      const executeOpening = async (session: SharedSession): Promise<{ held: boolean; opened: OpenedRun | null }> => {
        const opening = openingWithFirstWrite(session, handed.xmin);
        const run = handedRun({ name: null, definition: undefined });
        try {
          await fn({ session: opening.session, run, steps: new Map() });
        } catch (error) {
          const outcome = await opening.outcome();
          if (isOpened(outcome)) throw error;
        }
        const { held, asHanded } = await opening.outcome();
        if (!held) return { held, opened: null };
        if (!asHanded) return claimHeld(session);
        return { held, opened: null }; // executed
      };
      return withRun(runId, jobId, fn, needDefinition ? openHanded : executeOpening);
    },
  };
}

type SharedSession = ReturnType<typeof runSession>;

const isOpened = (opening: Opening): boolean => opening.held && opening.asHanded !== null;

/** Why a write of a handed run's execution failed: its opening found the run not as handed. */
class NotOpened extends Error {
  constructor() {
    super("The handed run was not as handed when opened; it is claimed instead.");
  }
}

/**
 * A handed run's session for an execution that starts before the run is opened: its first write
 * carries the opening — its first step's start goes with it in one round trip (kind open-start),
 * any other first write waits for the opening sent alone — and every later write waits for the
 * opening's answer. If the opening finds the run not as handed (its lock held elsewhere, or the
 * run cancelled or claimed since), the start stored nothing (it is conditioned in SQL on the same
 * checks) and every write of this session fails with NotOpened, now and later: the execution
 * stops before any step executed, and the run is claimed on `base` (a session object of its own,
 * so no write of this execution can ever slip into the claim's).
 *
 * Until the opening is answered the run has nothing `uncommitted` to show but the opening, so a
 * first step that overlaps its start (run-executor.ts, OVERLAPPED START) waits for the answer:
 * no request goes out for a run that is not ours.
 */
function openingWithFirstWrite(base: SharedSession, xmin: string): { session: RunSession; outcome(): Promise<Opening> } {
  let opening: Promise<Opening> | undefined;
  // Set once the opening is answered.
  let opened: boolean | undefined;
  const answered = (sent: Promise<Opening>) => {
    opening = sent;
    opening.then(
      (outcome) => (opened = isOpened(outcome)),
      () => (opened = false),
    );
    return opening;
  };
  /** The opening's answer: sent alone if no write carried it. */
  const outcome = () => opening ?? answered(base.open(xmin, false));
  /** Resolves once the run is opened as handed; rejects with NotOpened (or the opening's failure) otherwise. */
  const gate = async () => {
    if (opened === true) return;
    if (!isOpened(await outcome())) throw new NotOpened();
  };
  const mustBeOpened = () => {
    if (opened !== true) throw new NotOpened();
  };

  const session: RunSession = {
    start(path, kind, input, output, countAttempt = false) {
      if (opening) return gate().then(() => base.start(path, kind, input, output, countAttempt));
      const answer = base.openStart(xmin, path, kind, input, output, countAttempt);
      void answered(answer.then(({ held, started }) => ({ held, asHanded: started ? { name: null, definition: undefined } : null })));
      return answer.then(({ started }) => {
        if (!started) throw new NotOpened();
        return true;
      });
    },
    countAttempt: (path) => gate().then(() => base.countAttempt(path)),
    // Only after a step executed, so after a start answered as opened.
    finish: (path, result, then) => (mustBeOpened(), base.finish(path, result, then)),
    defer: (statement, then) => (mustBeOpened(), base.defer(statement, then)),
    uncommitted: () => opened !== true || base.uncommitted(),
    end: (result) => gate().then(() => base.end(result)),
    write: (statements, options) => gate().then(() => base.write(statements, options)),
    flush: () => gate().then(() => base.flush()),
    // Not opened: the lock is not this execution's to give up (the claim's path, or nobody's).
    unlock: () => (opened === true ? base.unlock() : Promise.resolve()),
  };
  return { session, outcome };
}

/** The run a claim opened on `session`, or null when it claimed nothing. */
const openedByClaim = (session: SharedSession, claim: Claim): OpenedRun | null => (claim.run ? { session, run: claim.run, steps: claim.steps } : null);

/**
 * The session of one run on `channel` (executed by job `jobId`, if any), and its claim. Its end
 * goes through `ends` (ENDS APART), or on `channel` in the transaction that gives its lock up.
 */
function runSession(
  channel: Channel,
  runId: string,
  jobId: string | undefined,
  onBroken: (error: Error) => void,
  ends: Channel = channel,
): RunSession & {
  claim(tryLock: boolean): Promise<Claim>;
  open(xmin: string, needDefinition: boolean): Promise<Opening>;
  openStart(xmin: string, path: string, kind: string, input: JsonValue, output: JsonValue | null, countAttempt: boolean): Promise<OpenedStart>;
} {
  let held: Held[] = [];
  // Writes carrying held-back items, sent and not answered yet.
  let carrying = 0;
  let unlocked: Promise<void> | undefined;
  // Settles once every write the run asked for so far was answered.
  let allAnswered: Promise<unknown> = Promise.resolve();

  /**
   * Queues a write carrying what the run held back (taken now) on `on`, once `after` settled.
   */
  const ask = <T>(write: DistributiveOmit<RunWrite, "runId" | "held" | "resolve" | "reject">, on = channel, after?: Promise<unknown>): Promise<T> => {
    const asked = new Promise<T>((resolve, reject) => {
      const taken = held;
      held = [];
      let open = taken.length > 0;
      if (open) carrying++;
      const answered = () => {
        if (open) carrying--;
        open = false;
      };
      const settle = { resolve: (value: T) => (answered(), resolve(value)), reject: (error: Error) => (answered(), reject(error)) };
      const queued = { ...write, runId, held: taken, ...settle } as RunWrite;
      if (after) void after.then(() => enqueue(on, queued));
      else enqueue(on, queued);
    });
    const before = allAnswered;
    allAnswered = Promise.all([before, asked.catch(() => undefined)]);
    return asked;
  };

  const unlock = () =>
    (unlocked ??= ask<void>({ kind: "unlock" }).catch(
      // The connection broke: it is destroyed, which ends the session and with it the lock.
      onBroken,
    ));

  const write = async (statements: readonly SqlStatement[], options: WriteOptions = {}): Promise<pg.QueryResult[]> => {
    if (statements.length === 0 && held.length === 0) return [];
    const results = ask<pg.QueryResult[]>({ kind: "statements", statements, marker: options.marker === true });
    if (options.unlock) void unlock(); // awaited by whoever ends the session
    return results;
  };

  return {
    claim: (tryLock) => ask<Claim>({ kind: "claim", tryLock }),
    open: (xmin, needDefinition) => ask<Opening>({ kind: "open", xmin, needDefinition }),
    openStart: (xmin, path, kind, input, output, countAttempt) =>
      ask<OpenedStart>({ kind: "open-start", xmin, path, stepKind: kind, input, output, countAttempt }),
    start: (path, kind, input, output, countAttempt = false) => ask<boolean>({ kind: "start", path, stepKind: kind, input, output, countAttempt }),
    countAttempt: (path) => ask<void>({ kind: "attempt", path }),
    finish: (path, result, then) => held.push({ outcome: { runId, path, result }, then }),
    uncommitted: () => held.length > 0 || carrying > 0,
    end: (result) => {
      if (ends !== channel) {
        // ENDS APART: after the run's earlier writes were answered; the lock given up once it was.
        const endedApart = ask<boolean>({ kind: "end", result, jobId, unlock: false }, ends, allAnswered);
        const giveUp = () => ask<void>({ kind: "unlock" }).catch(onBroken);
        unlocked ??= endedApart.then(giveUp, giveUp);
        return endedApart;
      }
      const ended = ask<boolean>({ kind: "end", result, jobId, unlock: true });
      // The end gives the lock up in its transaction; if that fails, the lock is still held
      // and the unlock below gives it up.
      unlocked ??= ended.then(
        () => undefined,
        () => ask<void>({ kind: "unlock" }).catch(onBroken),
      );
      return ended;
    },
    defer: (statement, then) => held.push({ statement, then }),
    write,
    flush: () => write([]).then(() => undefined),
    unlock,
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
