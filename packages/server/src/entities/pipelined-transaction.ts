// One transaction on a pooled client in pg's pipeline mode: statements issued without
// awaiting the one before travel together and share a round trip, answered in order.
//
// Why: a mutation is a short chain of small statements (BEGIN and the entity's lock, the
// read of prev, the owner's write, the read of next, the outbox row, COMMIT). On a loaded
// machine each round trip costs a wake-up of this process and of the backend, which cost
// more than the statements themselves (bench/entity-mutations: six round trips per mutate
// gave 0.45 of a raw UPDATE + INSERT at 4 writers). Order is all a transaction needs: the
// server runs pipelined statements one after another, each with its own snapshot.
import type pg from "pg";
import { VantageError } from "../errors.ts";
import { statementName } from "./prepared-statements.ts";
import { batchableStatement, StatementBatch } from "./statement-batch.ts";

/** pg's own flag (a Client option); off outside the transactions this module runs. */
type PipelineSwitch = { pipeline: boolean };

/** The parts of pg's client this module reaches into: its socket, and `query` per instance. */
type ClientInternals = { connection: { stream: { cork(): void; uncork(): void } }; query?: pg.ClientBase["query"] };

export interface PipelinedTransaction {
  client: pg.PoolClient;
  /**
   * Sends COMMIT now, behind whatever was issued before (so the last statement and the
   * commit share a round trip). The transaction's result waits for it either way.
   */
  commit(): void;
}

/**
 * Per pipelined client: the statements issued on it so far (counted by the `query` that
 * setPipelined puts on the instance) and how to put its own `query` back.
 */
const pipelinedClients = new WeakMap<object, { count: number; restore(): void }>();

/**
 * How many statements have been issued on a pipelined client since it was switched on:
 * lets a caller tell whether a function it handed the client issued more after some point.
 */
export function statementsIssued(client: object): number {
  return pipelinedClients.get(client)?.count ?? 0;
}

/** Whether statements issued on `client` without awaiting travel together (else they queue). */
export function isPipelined(client: unknown): boolean {
  return (client as Partial<PipelineSwitch>).pipeline === true;
}

/**
 * Turns pg's pipeline mode on or off for a client that has nothing in flight (the router's
 * own connection, around each batch's transaction). Off, pg warns about queued statements.
 * `oneSyncPerTrip`: the statements issued in one tick by the extended protocol travel as one
 * StatementBatch (one Sync); only for a client inside a transaction block (see statement-batch.ts).
 */
export function setPipelined(client: pg.ClientBase, on: boolean, oneSyncPerTrip = false): void {
  (client as unknown as PipelineSwitch).pipeline = on;
  const internals = client as unknown as ClientInternals;
  const current = pipelinedClients.get(client);
  if (!on) {
    current?.restore();
    pipelinedClients.delete(client);
    return;
  }
  if (current) return;
  // pg writes each statement to the socket on its own (one syscall per statement, and the
  // server may wake for each). Statements issued in one tick are meant to travel together:
  // cork the socket at the first and uncork once the tick's synchronous code is done.
  const stream = internals.connection.stream;
  const own = Object.getOwnPropertyDescriptor(client, "query");
  // Looked up at each call, not now: a spy put on the prototype meanwhile still sees it.
  const query = (): ((...args: unknown[]) => unknown) => (own ? own.value : Object.getPrototypeOf(client).query);
  let batch: StatementBatch | undefined;
  /** Hands the tick's batch to pg, behind everything issued before it. */
  const submitBatch = () => {
    if (batch === undefined) return;
    const submitting = batch;
    batch = undefined;
    query().call(client, submitting);
  };
  let corked = false;
  const endOfTick = () => {
    submitBatch();
    corked = false;
    stream.uncork();
  };
  const state = {
    count: 0,
    restore: () => {
      if (own) Object.defineProperty(client, "query", own);
      else delete internals.query; // back to the prototype's
    },
  };
  pipelinedClients.set(client, state);
  internals.query = function (this: pg.ClientBase, ...args: unknown[]) {
    state.count++;
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(endOfTick);
    }
    const statement = oneSyncPerTrip ? batchableStatement(args) : undefined;
    if (statement) return (batch ??= new StatementBatch()).add(statement);
    // Anything else goes to pg as it is, after the statements issued before it.
    submitBatch();
    return query().apply(this, args);
  } as pg.ClientBase["query"];
}

/**
 * Runs `fn` in one transaction opened with `begin` (sent together with `fn`'s first
 * statements): COMMIT (unless `fn` sent it) on success, ROLLBACK on any error. `fn` must
 * settle every statement it issues before it settles (Promise.allSettled where it issues
 * several), so none is left in flight when the client goes back to the pool.
 */
export async function withPipelinedTransaction<T>(pool: pg.Pool, begin: string, fn: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // Between BEGIN and COMMIT, so a round trip's statements can share one Sync.
  setPipelined(client, true, true);
  let committing: Promise<pg.QueryResult> | undefined;
  // BEGIN and COMMIT named (prepared once per connection), so they join their round trip's batch.
  const commit = () => {
    committing ??= client.query({ name: "vantage_commit", text: "COMMIT" });
  };
  let broken: Error | undefined;
  try {
    const [begun, done] = await Promise.allSettled([client.query({ name: statementName(begin), text: begin }), fn({ client, commit })]);
    // BEGIN's own failure explains the statements that failed behind it.
    if (begun.status === "rejected") throw begun.reason;
    if (done.status === "rejected") throw done.reason;
    commit();
    const { command } = await committing!;
    // COMMIT of a failed transaction rolls back: a statement failed and its error was
    // swallowed. Nothing was written, so the caller must not believe it was.
    if (command !== "COMMIT") {
      throw new VantageError("transient", "internal", "The transaction was rolled back: one of its statements failed and its error was caught.");
    }
    return done.value;
  } catch (error) {
    await committing?.catch(() => undefined);
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    // Every statement has been answered (the last one was), so the client is idle.
    setPipelined(client, false);
    client.release(broken);
  }
}

/**
 * Awaits statements issued together and returns their values in order, or throws the first
 * failure in issue order (the later ones usually only say the transaction is aborted).
 */
export async function settledInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
