// One transaction without BEGIN and COMMIT: the extended protocol's implicit transaction.
//
// Why: PostgreSQL runs everything a connection sends between two Syncs as ONE transaction,
// committed at the Sync (rolled back if a statement failed). A round trip closed by Flush
// instead of Sync gets its answers and leaves that transaction open, so a statement-form mutate
// travels as [lock, read prev, write, read next] + Flush → [outbox row] + Sync: five statements
// and one Sync, where BEGIN … COMMIT took seven statements and two Syncs. Every statement costs
// this process a Bind/Describe/Execute, a result and its parsing, and the backend an Execute
// (bench/entity-mutations).
//
// What it keeps: the statements still run one after another with a snapshot each (READ
// COMMITTED), locks taken (pg_advisory_xact_lock) are held until the Sync, and the whole is
// atomic: a failed statement makes the server skip everything up to the Sync, which then rolls
// back. Rolling back without a failure sends ROLLBACK, which PostgreSQL honours in an implicit
// transaction (with a WARNING "there is no transaction in progress").
//
// Only what the extended protocol carries travels this way (see batchableStatement): a
// simple-protocol string, a cursor or a callback would go with pg's own Sync and commit half a
// transaction. The first such statement turns the transaction into a BEGIN block: BEGIN in an
// implicit transaction makes it an explicit one, keeping what it did. Between the round trips no
// ReadyForQuery is sent, so idle_in_transaction_session_timeout does not apply (the backend shows
// as `active`); a process that dies closes the connection, which rolls back as in a BEGIN block.
import type pg from "pg";
import { VantageError } from "../errors.ts";
import { countStatements, type PipelinedTransaction, setPipelined } from "./pipelined-transaction.ts";
import { statementName } from "./prepared-statements.ts";
import { batchableStatement, type BatchedStatement, notRun, PgQuery, PgResult, prepareValue, type ResultBuilder } from "./statement-batch.ts";

/** The parts of pg's connection the batch writes to and listens on. */
interface Connection {
  stream: { cork?(): void; uncork?(): void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(message: { text: string; name?: string; types?: unknown }): void;
  bind(message: { statement?: string; values: unknown[] }): void;
  describe(message: { type: "P"; name: string }): void;
  execute(message: { portal: string }): void;
  flush(): void;
  sync(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  off(event: string, listener: (...args: unknown[]) => void): void;
}

interface Entry {
  statement: BatchedStatement;
  /** This batch sent the statement's Parse: the name is prepared once its ParseComplete arrives. */
  parsedHere: boolean;
  result?: ResultBuilder;
  resolve(result: pg.QueryResult): void;
  reject(error: unknown): void;
}

/**
 * Every statement of one implicit transaction, submitted to pg's client as ONE query that stays
 * its active query from the first round trip to the Sync: pg hands it every answer, and it splits
 * them by statement. A subclass of pg's Query only so a pipelined client accepts it.
 */
export class ImplicitTransactionBatch extends PgQuery {
  private readonly entries: Entry[] = [];
  /** Entries written to the connection / answered by the server / handed to their callers. */
  private written = 0;
  private answered = 0;
  private handedOut = 0;
  /** Where each round trip closed by Flush ends (its answers are handed out together). */
  private readonly roundEnds: number[] = [];
  /** Entries whose Parse was sent, in order; shifted as their ParseComplete arrives. */
  private readonly parsing: Entry[] = [];
  private connection?: Connection;
  private failure?: unknown;
  private syncSent = false;
  /** Which of the connection's events the batch listens to (it leaves them as it found them). */
  private readonly listening = { parses: false, sync: false };
  private endedBy?: "commit" | "rollback" | "begin";
  /** Set by end() when the batch reaches pg only with its last round trip. */
  private closing = false;
  private finished = false;
  /** The connection failed (not a statement): the client must not go back to the pool. */
  broken?: Error;
  private resolveEnded!: () => void;
  private rejectEnded!: (error: unknown) => void;
  /** Settles at the Sync's ReadyForQuery: committed, or rejected with why nothing was. */
  readonly ended = new Promise<void>((resolve, reject) => {
    this.resolveEnded = resolve;
    this.rejectEnded = reject;
  });

  constructor(private readonly submitToClient: (batch: ImplicitTransactionBatch) => void) {
    super({ text: "" });
    // Nobody may be waiting on it yet (a commit not asked for); the rejection is read where it matters.
    this.ended.catch(() => undefined);
  }

  /** Whether its Sync committed it (for tests that count transactions). */
  get committed(): boolean {
    return this.finished && this.failure === undefined && this.endedBy === "commit";
  }

  /** What the transaction sent or queued so far, in order (its values as they are sent). */
  get statements(): BatchedStatement[] {
    return this.entries.map((entry) => entry.statement);
  }

  /** Queues a statement for the round trip sent at the end of this tick. */
  add(statement: BatchedStatement): Promise<pg.QueryResult> {
    if (this.failure !== undefined) return Promise.reject(notRun(this.failure));
    if (this.syncSent) return Promise.reject(new Error("the implicit transaction already ended; issue statements before its commit"));
    return new Promise((resolve, reject) => {
      let values: unknown[];
      try {
        values = statement.values.map((value) => prepareValue(value));
      } catch (error) {
        reject(error);
        return;
      }
      const first = this.entries.length === this.written;
      this.entries.push({ statement: { ...statement, values }, parsedHere: false, resolve, reject });
      if (first) process.nextTick(() => this.sendRound());
    });
  }

  /** Sends what was queued, closed by Flush: answered without ending the transaction. */
  private sendRound(): void {
    if (this.written === this.entries.length || this.syncSent || this.failure !== undefined) return;
    if (this.connection === undefined)
      this.submitToClient(this); // pg calls submit(), which writes
    else this.write(this.connection, false);
  }

  /** pg's client submits the batch once, with the first round trip. */
  submit(connection: Connection): Error | null {
    this.connection = connection;
    this.write(connection, this.closing);
    return null;
  }

  private write(connection: Connection, sync: boolean): void {
    connection.stream.cork?.();
    try {
      for (; this.written < this.entries.length; this.written++) {
        const entry = this.entries[this.written]!;
        const { text, name, values, types } = entry.statement;
        const prepared = name === undefined ? undefined : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]);
        if (prepared !== undefined && prepared !== text) {
          // Names are derived from the text, so this is a caller's mistake; nothing of it is sent.
          this.failLocally(new Error(`Prepared statements must be unique - '${name}' was used for a different statement`));
          break;
        }
        if (prepared === undefined) {
          connection.parse({ text, name, types });
          if (name !== undefined) connection.submittedNamedStatements[name] = text;
          entry.parsedHere = true;
          // Rare once the connection prepared the mutation's statements: listened for only then.
          if (this.parsing.push(entry) === 1 && !this.listening.parses) {
            this.listening.parses = true;
            connection.on("parseComplete", this.onParseComplete);
          }
        }
        connection.bind({ statement: name, values });
        connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "" });
      }
      if (sync || this.failure !== undefined) this.sendSync(connection);
      else {
        this.roundEnds.push(this.written);
        connection.flush();
      }
    } finally {
      connection.stream.uncork?.();
    }
  }

  /**
   * Commits (everything sent, then Sync) or rolls back (ROLLBACK, then Sync); resolves once the
   * server has answered the Sync. Rejects if the transaction did not commit. "begin": the last
   * statement queued is BEGIN, so the Sync leaves a transaction block open instead.
   */
  end(how: "commit" | "rollback" | "begin"): Promise<void> {
    if (this.syncSent || this.finished) return this.ended;
    this.endedBy = how;
    if (how === "rollback" && this.failure === undefined) {
      this.entries.push({ statement: { name: "vantage_rollback", text: "ROLLBACK", values: [] }, parsedHere: false, resolve: () => {}, reject: () => {} });
    }
    if (this.connection === undefined) {
      if (this.entries.length === 0 || this.failure !== undefined) {
        // Nothing reached the server: nothing to commit or roll back.
        this.finish();
        return this.ended;
      }
      this.closing = true;
      this.submitToClient(this);
    } else this.write(this.connection, true);
    return this.ended;
  }

  private sendSync(connection: Connection): void {
    if (this.syncSent) return;
    this.syncSent = true;
    connection.sync();
  }

  private readonly onParseComplete = () => {
    const entry = this.parsing.shift();
    const name = entry?.statement.name;
    if (entry !== undefined && name !== undefined) {
      this.connection!.parsedStatements[name] = entry.statement.text;
      delete this.connection!.submittedNamedStatements[name];
      entry.parsedHere = false;
    }
  };

  private readonly onSyncAnswered = () => this.finish();

  private readonly onConnectionEnd = () => {
    this.broken = new Error("the database connection ended inside an implicit transaction");
    this.fail(this.broken);
    this.finish();
  };

  private resultOf(entry: Entry): ResultBuilder {
    entry.result ??= new PgResult(entry.statement.rowMode, entry.statement.types ?? (this as unknown as { _result: { _types: unknown } })._result._types);
    return entry.result;
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    const entry = this.entries[this.answered];
    if (entry) this.resultOf(entry).addFields(message.fields);
  }

  handleDataRow(message: { fields: unknown[] }): void {
    const entry = this.entries[this.answered];
    if (!entry) return;
    const result = this.resultOf(entry);
    result.addRow(result.parseRow(message.fields));
  }

  handleCommandComplete(message: unknown): void {
    const entry = this.entries[this.answered];
    if (entry) this.resultOf(entry).addCommandComplete(message);
    this.answeredOne();
  }

  handleEmptyQuery(): void {
    const entry = this.entries[this.answered];
    if (entry) this.resultOf(entry);
    this.answeredOne();
  }

  /** A round trip's answers are handed out once its last statement is answered. */
  private answeredOne(): void {
    this.answered++;
    while (this.roundEnds.length > 0 && this.roundEnds[0]! <= this.answered) this.handOut(this.roundEnds.shift()!);
  }

  private handOut(upTo: number): void {
    for (; this.handedOut < upTo; this.handedOut++) {
      const entry = this.entries[this.handedOut]!;
      entry.resolve(entry.result!);
    }
  }

  /**
   * A statement failed (pg no longer treats the batch as its active query), or the connection
   * did. The server skips everything up to the Sync, which it then answers: sent now if it was not.
   */
  handleError(error: unknown, connection?: Connection): void {
    const fromServer = error instanceof Error && "severity" in error;
    this.fail(error);
    if (!fromServer) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      this.finish();
      return;
    }
    // pg hands the batch nothing more (not even the Sync's ReadyForQuery): listen for it.
    const target = connection ?? this.connection;
    if (!target) return;
    this.listening.sync = true;
    target.on("readyForQuery", this.onSyncAnswered);
    target.on("end", this.onConnectionEnd);
    this.sendSync(target);
  }

  /** The Sync's ReadyForQuery while the batch is still pg's active query (nothing failed). */
  handleReadyForQuery(): void {
    this.finish();
  }

  /** Records the first failure: answered statements get their results, the next its error, the rest 25P02. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.handOut(Math.min(this.answered, this.entries.length));
    this.entries.forEach((entry, index) => {
      if (index < this.handedOut) return;
      entry.reject(index === this.answered ? error : notRun(error));
    });
    this.handedOut = this.entries.length;
  }

  /** Something went wrong before a statement was sent: the rest is not sent; the Sync rolls back what was. */
  private failLocally(error: unknown): void {
    const failing = this.entries[this.written]!;
    this.fail(notRun(error));
    failing.reject(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.listening.parses) this.connection?.off("parseComplete", this.onParseComplete);
    if (this.listening.sync) {
      this.connection?.off("readyForQuery", this.onSyncAnswered);
      this.connection?.off("end", this.onConnectionEnd);
    }
    // A Parse never confirmed did not prepare its name: the next use parses it again.
    for (const entry of this.parsing) {
      const name = entry.statement.name;
      if (name !== undefined && this.connection) delete this.connection.submittedNamedStatements[name];
    }
    if (this.failure === undefined && this.answered < this.entries.length) {
      this.fail(new Error("the implicit transaction ended before every statement was answered"));
    }
    this.handOut(this.entries.length);
    if (this.failure !== undefined) this.rejectEnded(this.failure);
    else this.resolveEnded();
  }
}

/** A call of `query` held back while the transaction turns into a BEGIN block: run, or failed. */
interface HeldCall {
  run(query: (...args: unknown[]) => unknown): void;
  fail(error: unknown): void;
}

/**
 * Holds a call the way its caller listens: a submittable (a cursor) hears of a failure by its
 * handleError, a callback by being called, else the returned promise settles; no caller waits forever.
 */
function hold(args: readonly unknown[], calls: HeldCall[]): unknown {
  const [first, second, third] = args;
  const config = typeof first === "object" && first !== null ? (first as { submit?: unknown; handleError?: (error: unknown) => void; callback?: unknown }) : {};
  if (typeof config.submit === "function" && typeof config.handleError === "function") {
    const submittable = config as { handleError(error: unknown): void };
    calls.push({ run: (query) => query(...args), fail: (error) => submittable.handleError(error) });
    return first;
  }
  const callback = [third, second, config.callback].find((arg) => typeof arg === "function") as ((error: unknown) => void) | undefined;
  if (callback) {
    calls.push({ run: (query) => query(...args), fail: (error) => callback(error) });
    return undefined;
  }
  return new Promise((resolve, reject) => calls.push({ run: (query) => resolve(query(...args)), fail: reject }));
}

/** The parts of pg's client the transaction swaps while it runs. */
type ClientInternals = { pipeline: boolean; query?: pg.ClientBase["query"] };

/** The answer to COMMIT in a failed transaction block: it rolled back. */
function checkCommitted({ command }: pg.QueryResult): void {
  if (command !== "COMMIT") {
    throw new VantageError("transient", "internal", "The transaction was rolled back: one of its statements failed and its error was caught.");
  }
}

/**
 * Runs `fn` in one implicit transaction (no BEGIN): its statements travel in round trips closed
 * by Flush; `commit` (or `fn` returning) sends the Sync that commits them. Any error rolls back.
 * The first statement that cannot travel that way turns the transaction into a BEGIN block
 * first (BEGIN and a Sync; it and the statements behind it wait for the answer), so nothing
 * is ever run twice; from there on it is a pipelined transaction (withPipelinedTransaction's
 * one Sync per round trip) ended by COMMIT. `fn` settles every statement it issues before it settles.
 */
export async function withImplicitTransaction<T>(pool: pg.Pool, fn: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const internals = client as unknown as ClientInternals;
  const ownQuery = Object.getOwnPropertyDescriptor(client, "query");
  const restoreQuery = () => {
    if (ownQuery) Object.defineProperty(client, "query", ownQuery);
    else delete internals.query;
  };
  const pgQuery = (ownQuery ? ownQuery.value : Object.getPrototypeOf(client).query) as (batch: unknown) => unknown;
  const batch = new ImplicitTransactionBatch((submitting) => pgQuery.call(client, submitting));
  const counter = countStatements(client);
  // implicit → turning (BEGIN sent, calls held) → block; or → failed if a statement before BEGIN failed.
  let mode = "implicit" as "implicit" | "turning" | "block" | "failed";
  let failure: unknown;
  const held: HeldCall[] = [];

  /** BEGIN answered: the transaction is a block; the held calls go to the pipelined client in order. */
  const turned = () => {
    restoreQuery();
    counter.forget();
    setPipelined(client, true, true, counter.count - held.length);
    mode = "block";
    const query = (...args: unknown[]) => (client.query as (...a: unknown[]) => unknown)(...args);
    for (const call of held.splice(0)) call.run(query);
  };
  /** A statement before BEGIN failed: the Sync rolled everything back; nothing more may run. */
  const failed = (error: unknown) => {
    mode = "failed";
    failure = error;
    for (const call of held.splice(0)) call.fail(notRun(error));
  };

  internals.pipeline = true; // statements issued together travel together: owners check this
  internals.query = function (...args: unknown[]) {
    counter.count++;
    if (mode === "implicit") {
      const statement = batchableStatement(args);
      if (statement !== undefined) return batch.add(statement);
      mode = "turning";
      batch.add({ name: statementName("BEGIN"), text: "BEGIN", values: [] }).catch(() => undefined);
      batch.end("begin").then(turned, failed);
    }
    const calls: HeldCall[] = [];
    const result = hold(args, calls);
    if (mode === "failed") calls[0]!.fail(notRun(failure));
    else held.push(calls[0]!);
    return result;
  } as pg.ClientBase["query"];

  let committing: Promise<unknown> | undefined;
  const commit = () => {
    committing ??= mode === "implicit" ? batch.end("commit") : client.query({ name: "vantage_commit", text: "COMMIT" }).then(checkCommitted);
  };
  let broken: Error | undefined;
  try {
    const value = await fn({ client, commit });
    commit();
    await committing;
    return value;
  } catch (error) {
    await committing?.catch(() => undefined);
    if (mode === "implicit") await batch.end("rollback").catch(() => undefined);
    else await batch.ended.catch(() => undefined); // turning: wait for the BEGIN's answer
    if (mode === "block") {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
    }
    throw error;
  } finally {
    if (mode === "block") setPipelined(client, false);
    else {
      restoreQuery();
      counter.forget();
    }
    internals.pipeline = false;
    client.release(batch.broken ?? broken);
  }
}
