// The one connection an execution of a run holds: the run's session advisory lock, and every
// record the execution writes, in pg's pipeline mode so that statements travel together.
//
// Why: a run of one webhook made about fifteen round trips (bench/mass-outage), each a wake-up
// of the core and of a backend, which on a loaded machine cost more than the statements. Here
// the lock, the claim and the step records share one round trip; a step's outcome is held
// back (`defer`) and sent in the transaction of the next write — the next step's start, or the
// run's end — and the unlock rides behind the end. A step's outcome is still stored before the
// next step executes (its start is answered after the outcome's commit), and one lost with the
// process is the same as a crash between the step and its record: the step runs again on
// resume, a webhook with the same Idempotency-Key.
import type pg from "pg";
import { setPipelined, settledInOrder, type SqlStatement } from "../../entities/index.ts";
import { VantageError } from "../../errors.ts";
import { hashedLockKey, LockKey } from "../../storage/index.ts";

// Session-level: a second job for the run (a wake while this one executes, or a job unlocked by
// the lease sweeper while a slow process still runs it) waits here, then finds the stored
// steps. Released when the connection is (even if it broke).
const LOCK_RUN = `SELECT pg_advisory_lock(${hashedLockKey("$1")})`;
const UNLOCK_RUN = `SELECT pg_advisory_unlock(${hashedLockKey("$1")})`;

export interface RunSession {
  /** The session's connection, for reads that need no ordering with held-back writes. */
  client: pg.PoolClient;
  /** Holds `statement` back to go first in the next `write`'s transaction; `then` runs once it committed. */
  defer(statement: SqlStatement, then?: () => void): void;
  /**
   * Sends the held-back statements and `statements` in one round trip, in one transaction
   * when there are several, and returns the results of `statements`. The first call also
   * waits for the run's lock, sent ahead of it.
   */
  write(statements: readonly SqlStatement[]): Promise<pg.QueryResult[]>;
  /** Sends whatever is held back (before a write that goes through another connection). */
  flush(): Promise<void>;
  /** Gives up the run's lock, behind whatever was sent; once, however often it is called. */
  unlock(): Promise<void>;
}

/** Runs `fn` holding the run's session advisory lock on a pipelined connection of its own. */
export async function withRunSession(pool: pg.Pool, runId: string, fn: (session: RunSession) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  setPipelined(client, true);
  const key = [LockKey.run(runId)];
  const issue = (statement: SqlStatement) => client.query(statement.text, statement.values);
  let broken: Error | undefined;
  // Not awaited here: the lock travels with the execution's first write (the claim).
  const locked = issue({ text: LOCK_RUN, values: key });
  locked.catch((error: Error) => {
    broken = error; // awaited by every write, which then fails with it
  });
  let deferred: { statement: SqlStatement; then?: () => void }[] = [];
  let unlocked: Promise<void> | undefined;

  const write = async (statements: readonly SqlStatement[]): Promise<pg.QueryResult[]> => {
    const held = deferred;
    deferred = [];
    const all = [...held.map((entry) => entry.statement), ...statements];
    if (all.length === 0) return [];
    const inTransaction = all.length > 1;
    // Issued synchronously, so a concurrent write (a parallel step's branch) never interleaves.
    const sent = [locked, ...(inTransaction ? [client.query("BEGIN")] : []), ...all.map(issue), ...(inTransaction ? [client.query("COMMIT")] : [])];
    // Every statement is answered before this throws: a failure inside the transaction made
    // its COMMIT a rollback, so none is left open on the connection.
    const results = (await settledInOrder(sent)) as pg.QueryResult[];
    // COMMIT of a transaction in which a statement failed and was caught rolls back.
    if (inTransaction && results.at(-1)!.command !== "COMMIT") {
      throw new VantageError("transient", "internal", "The run's records were rolled back: one of their statements failed.");
    }
    for (const entry of held) entry.then?.();
    const first = 1 + (inTransaction ? 1 : 0) + held.length;
    return results.slice(first, first + statements.length);
  };

  const session: RunSession = {
    client,
    defer: (statement, then) => deferred.push({ statement, then }),
    write,
    flush: () => write([]).then(() => undefined),
    unlock: () =>
      (unlocked ??= issue({ text: UNLOCK_RUN, values: key }).then(
        () => undefined,
        (error: Error) => {
          broken = error; // destroyed below, which ends the session and with it the lock
        },
      )),
  };
  try {
    await fn(session);
  } finally {
    await locked.catch(() => undefined);
    // Without the lock (the connection broke) there is nothing to give up.
    if (!broken) await session.unlock();
    setPipelined(client, false);
    client.release(broken);
  }
}
