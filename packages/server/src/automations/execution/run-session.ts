// Where an execution of a run holds the run's session advisory lock and writes its records:
// a few connections in pg's pipeline mode, each shared by many runs, so that statements travel
// together and the number of runs in flight is not the number of connections.
//
// Why: a run of one webhook made about fifteen round trips (bench/mass-outage), each a wake-up
// of the core and of a backend, which on a loaded machine cost more than the statements, and
// each run in flight held a connection of its own, so few ran at once. Here the lock, the claim
// and the step records share one round trip; a step's outcome is held back (`defer`) and sent
// in the transaction of the next write — the next step's start, or the run's end — and the
// unlock rides behind the end. A step's outcome is still stored before the next step executes
// (its start is answered after the outcome's commit), and one lost with the process is the
// same as a crash between the step and its record: the step runs again on resume, a webhook
// with the same Idempotency-Key.
//
// A shared connection only ever *tries* the lock (a blocking one would stall every run behind
// it): a run whose lock is held elsewhere — another process executing it, or this one — takes
// a connection of its own and waits there, as every run did before.
import type pg from "pg";
import { setPipelined, settledInOrder, type SqlStatement } from "../../entities/index.ts";
import { VantageError } from "../../errors.ts";
import { hashedLockKey, LockKey } from "../../storage/index.ts";
import { type ClaimedRun, claimedRun, claimRunStatement, loadStepsStatement, type StepRecord, stepRecords } from "../runs/run-records.ts";

// Session-level: a second job for the run (a wake while this one executes, or a job unlocked by
// the lease sweeper while a slow process still runs it) waits here, then finds the stored
// steps. Released when the connection is (even if it broke).
const LOCK_RUN = `SELECT pg_advisory_lock(${hashedLockKey("$1")})`;
const UNLOCK_RUN = `SELECT pg_advisory_unlock(${hashedLockKey("$1")})`;
// A claim (pending → running) or a step's start (running, with its input) that a crash of the
// database loses is the same as a crash of the core just before it: the run is claimed again,
// the step executed again with the same Idempotency-Key. So their commits need not wait for
// the WAL flush, which under a mass outage is what the database's sessions wait on most
// (bench/mass-outage); the outcomes and the run's end do wait. Still atomic, still visible at
// once, and flushed by the next synchronous commit at the latest.
const MARKER = "SET LOCAL synchronous_commit TO off";

// The claim of a shared connection, made only if the lock was free: `held` says whether it was.
const TRY_LOCK_RUN = `pg_try_advisory_lock(${hashedLockKey("$2")})`;

export interface RunSession {
  /** Holds `statement` back to go first in the next `write`'s transaction; `then` runs once it committed. */
  defer(statement: SqlStatement, then?: () => void): void;
  /**
   * Sends the held-back statements and `statements` in one round trip, in one transaction
   * when there are several, and returns the results of `statements`. `marker`: the write
   * only marks progress that a crash may lose (see MARKER), so its commit does not wait for
   * the WAL to reach the disk — unless it carries held-back outcomes, which always do.
   */
  write(statements: readonly SqlStatement[], options?: WriteOptions): Promise<pg.QueryResult[]>;
  /** Sends whatever is held back (before a write that goes through another connection). */
  flush(): Promise<void>;
  /** Gives up the run's lock, behind whatever was sent; once, however often it is called. */
  unlock(): Promise<void>;
}

export interface WriteOptions {
  /** Progress a crash may lose (see MARKER): its commit does not wait for the WAL flush. */
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
   * claimed (ended, queued, cancelled or gone): a late or repeated job.
   */
  withClaimedRun(runId: string, fn: (opened: OpenedRun) => Promise<void>): Promise<void>;
}

/** A pipelined connection and the runs on it; back to the pool once none is left. */
interface Channel {
  client: Promise<pg.PoolClient>;
  users: number;
  broken?: Error;
}

/** `connections`: how many shared connections at most (runs beyond share them). */
export function createRunSessions(pool: pg.Pool, options: { connections: number }): RunSessions {
  const channels: Channel[] = [];
  // Runs executing in this process: session locks are re-entrant, so a second execution of one
  // run must not try its lock on a connection that may hold it already.
  const executing = new Set<string>();

  const join = (): Channel => {
    const least = channels.reduce<Channel | undefined>((best, channel) => (best && best.users <= channel.users ? best : channel), undefined);
    let channel = least;
    if (!channel || (channel.users > 0 && channels.length < options.connections)) {
      const client = pool.connect().then((connected) => {
        setPipelined(connected, true);
        return connected;
      });
      client.catch(() => undefined); // awaited by every run on it
      channel = { client, users: 0 };
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
    if (channel.users > 0) return;
    const client = await channel.client.catch(() => undefined);
    if (!client) return;
    setPipelined(client, false);
    client.release(channel.broken);
  };

  /** On a shared connection: false if the lock was held elsewhere (nothing was claimed then). */
  const onShared = async (runId: string, fn: (opened: OpenedRun) => Promise<void>): Promise<boolean> => {
    const channel = join();
    let broken: Error | undefined;
    try {
      const client = await channel.client.catch((error: Error) => {
        broken = error; // a connection that failed to open takes its runs with it
        throw error;
      });
      const session = runSession(client, runId, Promise.resolve(), (error) => (broken = error));
      let held: boolean | undefined;
      try {
        const [claim, steps] = await session.write([tryClaimStatement(runId), loadStepsStatement(runId)], { marker: true });
        held = claim!.rows[0]?.held === true;
        const run = held ? claimedRun(claim!) : null;
        if (run) await fn({ session, run, steps: stepRecords(steps!) });
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
  const onOwn = async (runId: string, fn: (opened: OpenedRun) => Promise<void>): Promise<void> => {
    const client = await pool.connect();
    setPipelined(client, true);
    let broken: Error | undefined;
    // Not awaited here: the lock travels with the claim.
    const locked = client.query(LOCK_RUN, [LockKey.run(runId)]);
    locked.catch((error: Error) => {
      broken = error; // and every write fails with it
    });
    const session = runSession(client, runId, locked, (error) => (broken = error));
    try {
      const [claim, steps] = await session.write([claimRunStatement(runId), loadStepsStatement(runId)], { marker: true });
      const run = claimedRun(claim!);
      if (run) await fn({ session, run, steps: stepRecords(steps!) });
    } finally {
      await locked.catch(() => undefined);
      // Without the lock (the connection broke) there is nothing to give up.
      if (!broken) await session.unlock();
      setPipelined(client, false);
      client.release(broken);
    }
  };

  return {
    async withClaimedRun(runId, fn) {
      if (executing.has(runId)) return onOwn(runId, fn);
      executing.add(runId);
      try {
        if (await onShared(runId, fn)) return;
        await onOwn(runId, fn);
      } finally {
        executing.delete(runId);
      }
    },
  };
}

/** The claim, on a shared connection: only if the run's lock could be taken at once. */
const tryClaimStatement = (runId: string): SqlStatement => claimRunStatement(runId, { sql: TRY_LOCK_RUN, values: [LockKey.run(runId)] });

/** The session of one run on `client`: `ready` is what its first write waits for too (the lock). */
function runSession(client: pg.PoolClient, runId: string, ready: Promise<unknown>, onBroken: (error: Error) => void): RunSession {
  const issue = (statement: SqlStatement) => client.query(statement.text, statement.values);
  let deferred: { statement: SqlStatement; then?: () => void }[] = [];
  let unlocked: Promise<void> | undefined;

  const unlock = () =>
    (unlocked ??= issue({ text: UNLOCK_RUN, values: [LockKey.run(runId)] }).then(
      () => undefined,
      // The connection broke: it is destroyed, which ends the session and with it the lock.
      onBroken,
    ));

  const write = async (statements: readonly SqlStatement[], options: WriteOptions = {}): Promise<pg.QueryResult[]> => {
    const held = deferred;
    deferred = [];
    const opening = options.marker && held.length === 0 ? [{ text: MARKER }] : [];
    const all = [...opening, ...held.map((entry) => entry.statement), ...statements];
    if (all.length === 0) return [];
    const inTransaction = all.length > 1;
    // Issued synchronously, so no other write on the connection (another run, a parallel
    // step's branch) comes between them; the pipelined client corks a tick's statements, so
    // they leave in one system call.
    const sent = [ready, ...(inTransaction ? [client.query("BEGIN")] : []), ...all.map(issue), ...(inTransaction ? [client.query("COMMIT")] : [])];
    if (options.unlock) void unlock(); // awaited by whoever ends the session
    // Every statement is answered before this throws: a failure inside the transaction made
    // its COMMIT a rollback, so none is left open on the connection.
    const results = (await settledInOrder(sent)) as pg.QueryResult[];
    // COMMIT of a transaction in which a statement failed and was caught rolls back.
    if (inTransaction && results.at(-1)!.command !== "COMMIT") {
      throw new VantageError("transient", "internal", "The run's records were rolled back: one of their statements failed.");
    }
    for (const entry of held) entry.then?.();
    const first = 1 + (inTransaction ? 1 : 0) + opening.length + held.length;
    return results.slice(first, first + statements.length);
  };

  return {
    defer: (statement, then) => deferred.push({ statement, then }),
    write,
    flush: () => write([]).then(() => undefined),
    unlock,
  };
}
