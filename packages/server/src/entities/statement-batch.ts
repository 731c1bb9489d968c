// The statements a pipelined transaction issues together, sent as one batch of the extended
// protocol (Parse where the connection has not prepared the statement yet, then Bind, Describe,
// Execute for each) closed by ONE Sync, instead of pg's Sync behind every statement.
//
// Why: every Sync makes the backend answer ReadyForQuery and flush its socket, and pg handles
// every statement as a query of its own (a Query object, a queue entry, a ReadyForQuery). A
// mutate's first round trip is five statements (BEGIN, lock, read of prev, write, read of next):
// five flushes and up to five wake-ups of this process became one, and the client CPU a mutate
// costs beyond a raw UPDATE+INSERT is mostly such per-statement protocol work
// (docs/benchmarks/2026-12-03-connects-and-mutations.md).
//
// A named statement the connection has prepared is not described again: its row description
// (or that it returns no rows) is remembered per connection from its first answer. PostgreSQL
// keeps a prepared statement's result type fixed (a schema change that would alter it fails the
// statement instead), so what it described once stays true while the statement exists.
//
// Sound inside a transaction block only: once a statement fails, the server skips the rest of
// the batch up to the Sync, where pg's per-statement Sync would have run each and failed it with
// "current transaction is aborted". They are failed the same way here (SQLSTATE 25P02).
import { createRequire } from "node:module";
import pg from "pg";

/** One statement of a batch, as pg's client would have sent it by the extended protocol. */
export interface BatchedStatement {
  text: string;
  name?: string;
  values: unknown[];
  rowMode?: "array";
  types?: unknown;
}

/** pg's value serialization (Dates, arrays, JSON, toPostgres), as its own queries use it. */
const { prepareValue } = createRequire(import.meta.url)("pg/lib/utils.js") as { prepareValue(value: unknown): unknown };

/** The parts of pg's connection a batch writes to (what pg's own Query.prepare uses). */
interface Connection {
  stream: { cork?(): void; uncork?(): void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(message: { text: string; name?: string; types?: unknown }): void;
  bind(message: { statement?: string; values: unknown[] }): void;
  describe(message: { type: "P"; name: string }): void;
  execute(message: { portal: string }): void;
  sync(): void;
  on(event: "parseComplete", listener: () => void): void;
  off(event: "parseComplete", listener: () => void): void;
}

type ResultBuilder = pg.QueryResult & {
  _parsers: unknown;
  _prebuiltEmptyResultObject: unknown;
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): unknown;
  addRow(row: unknown): void;
  addCommandComplete(message: unknown): void;
};
const { Query, Result } = pg as unknown as {
  Query: new (text: string) => object;
  Result: new (rowMode: string | undefined, types: unknown) => ResultBuilder;
};

/** A row description as pg hands it to a Result (`addFields`); empty for a statement without rows. */
type Fields = readonly unknown[];

/**
 * What a Result makes of a row description (addFields): a type parser per field and the empty
 * row each parsed row starts from. Worked out once per statement and connection, not for every
 * result: the lookups and the dictionary-mode row pg builds are most of a small result's cost.
 * Type parsers are looked up at the statement's first result (the project sets none later).
 */
interface RowShape {
  types: unknown;
  parsers: unknown;
  emptyRow: unknown;
}

/** A named statement's row description as its first Describe answered, and its shape once built. */
interface Described {
  text: string;
  fields: Fields;
  shape?: RowShape;
}

/** Per connection: the row description of each named statement prepared there, by name. */
const describedStatements = new WeakMap<Connection, Map<string, Described>>();

interface Entry {
  statement: BatchedStatement;
  /** The batch sent this statement's Parse (its name is not prepared until the batch gets that far). */
  parsedHere: boolean;
  /** What the statement's rows look like, known without a Describe; undefined when one was sent. */
  known?: Described;
  result?: ResultBuilder;
  resolve(result: pg.QueryResult): void;
  reject(error: unknown): void;
}

/**
 * Turns a call of `client.query` into a statement a batch can carry, or undefined when it
 * must go to pg as it is: the simple protocol (no values, no name: it may hold several
 * statements), callbacks, cursors and other submittables, row limits, portals, binary results.
 */
export function batchableStatement(args: readonly unknown[]): BatchedStatement | undefined {
  const [first, values, ...rest] = args;
  if (rest.length > 0) return undefined;
  if (typeof first === "string") {
    return Array.isArray(values) && values.length > 0 ? { text: first, values } : undefined;
  }
  if (values !== undefined || first === null || typeof first !== "object") return undefined;
  const config = first as Partial<pg.QueryConfig> & Record<string, unknown>;
  if (typeof config.text !== "string" || config.submit !== undefined || config.callback !== undefined) return undefined;
  if (config.rows !== undefined || config.portal !== undefined || config.binary) return undefined;
  const configValues = config.values ?? [];
  if (!Array.isArray(configValues) || (config.name === undefined && configValues.length === 0)) return undefined;
  return {
    text: config.text,
    name: config.name,
    values: configValues,
    rowMode: config.rowMode === "array" ? "array" : undefined,
    types: config.types,
  };
}

/** `result.addFields(known.fields)`, with the parsers and empty row built for an earlier result of the statement. */
function addKnownFields(result: ResultBuilder, known: Described, types: unknown): void {
  const { shape } = known;
  if (shape !== undefined && shape.types === types) {
    result.fields = known.fields as pg.FieldDef[];
    result._parsers = shape.parsers;
    result._prebuiltEmptyResultObject = shape.emptyRow;
    return;
  }
  result.addFields(known.fields as unknown[]);
  known.shape = { types, parsers: result._parsers, emptyRow: result._prebuiltEmptyResultObject };
}

/** What a statement skipped behind a failed one of its batch is failed with: what pg's Sync per statement gave. */
function notRun(cause: unknown): Error {
  return Object.assign(
    new Error("current transaction is aborted, commands ignored until end of transaction block (an earlier statement of its round trip failed)"),
    {
      code: "25P02",
      cause,
    },
  );
}

/**
 * One round trip's statements, submitted to pg's client as one query: a subclass of pg's Query
 * only so that a pipelined client accepts it (it refuses other submittables); pg hands it every
 * message up to the batch's one ReadyForQuery, and it splits them by statement.
 */
export class StatementBatch extends Query {
  private readonly entries: Entry[] = [];
  /** The statement whose answer is arriving. */
  private current = 0;
  private settled = false;
  /** Entries whose Parse was sent and not yet confirmed by a ParseComplete, in order. */
  private readonly parsing: Entry[] = [];
  private listening?: Connection;
  /** The connection's remembered row descriptions (set at submit). */
  private described?: Map<string, Described>;

  constructor() {
    // A string, not a config: pg copies a config object property by property (a slow path).
    super("");
  }

  /** What the batch carries, in order (its values as they will be sent). */
  get statements(): BatchedStatement[] {
    return this.entries.map((entry) => entry.statement);
  }

  /**
   * Adds a statement; its values are serialized now, so a value pg cannot send fails this
   * statement alone (as pg's own bind would) instead of the whole batch.
   */
  add(statement: BatchedStatement): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      let values: unknown[];
      try {
        values = statement.values.map((value) => prepareValue(value));
      } catch (error) {
        reject(error);
        return;
      }
      this.entries.push({ statement: { ...statement, values }, parsedHere: false, resolve, reject });
    });
  }

  submit(connection: Connection): Error | null {
    connection.stream.cork?.();
    let described = describedStatements.get(connection);
    if (described === undefined) describedStatements.set(connection, (described = new Map()));
    this.described = described;
    try {
      for (const entry of this.entries) {
        const { text, name, values, types } = entry.statement;
        const prepared = name === undefined ? undefined : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]);
        if (prepared !== undefined && prepared !== text) return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
        if (prepared === undefined) {
          connection.parse({ text, name, types });
          if (name !== undefined) connection.submittedNamedStatements[name] = text;
          entry.parsedHere = true;
          this.parsing.push(entry);
        }
        connection.bind({ statement: name, values });
        const known = prepared === undefined || name === undefined ? undefined : described.get(name);
        if (known?.text === text) entry.known = known;
        else connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "" });
      }
      // pg does not hand a batch its ParseCompletes; rare once a connection prepared its statements.
      if (this.parsing.length > 0) {
        this.listening = connection;
        connection.on("parseComplete", this.parsed);
      }
      connection.sync();
      return null;
    } finally {
      connection.stream.uncork?.();
    }
  }

  private resultOf(entry: Entry): ResultBuilder {
    if (entry.result === undefined) {
      const types = entry.statement.types ?? (this as unknown as { _result: { _types: unknown } })._result._types;
      entry.result = new Result(entry.statement.rowMode, types);
      if (entry.known !== undefined && entry.known.fields.length > 0) addKnownFields(entry.result, entry.known, types);
    }
    return entry.result;
  }

  /** Remembers what a named statement's Describe answered (no RowDescription: no rows). */
  private remember(entry: Entry, fields: Fields): void {
    const { name, text } = entry.statement;
    if (name !== undefined && entry.known === undefined) this.described?.set(name, { text, fields });
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    const entry = this.entries[this.current];
    if (!entry) return;
    this.resultOf(entry).addFields(message.fields);
    this.remember(entry, message.fields);
  }

  handleDataRow(message: { fields: unknown[] }): void {
    const entry = this.entries[this.current];
    if (!entry) return;
    const result = this.resultOf(entry);
    result.addRow(result.parseRow(message.fields));
  }

  handleCommandComplete(message: unknown): void {
    const entry = this.entries[this.current++];
    if (!entry) return;
    // Described, and no RowDescription came before the rows' end: it answered NoData.
    if (entry.result === undefined) this.remember(entry, []);
    this.resultOf(entry).addCommandComplete(message);
  }

  handleEmptyQuery(): void {
    const entry = this.entries[this.current++];
    if (entry) this.resultOf(entry);
  }

  /**
   * The statement being answered failed (or the connection did): the ones before it get their
   * results, it gets the error, and the ones behind it were skipped by the server (the names
   * they would have prepared were not prepared). pg sends this batch nothing more.
   */
  handleError(error: unknown, connection?: Connection): void {
    this.settle(error, connection);
  }

  /**
   * The batch's one ReadyForQuery: every statement was answered. Results are handed out only
   * now (the server sent them all at the Sync anyway), so a caller that ends its transaction on
   * the last of them finds the connection idle.
   */
  handleReadyForQuery(): void {
    // A statement left unanswered (a protocol surprise) must not hang its caller.
    this.settle(this.current < this.entries.length ? new Error("the batch ended before every statement was answered") : undefined);
  }

  /**
   * A Parse of this batch succeeded: its name is prepared on the connection, whatever happens
   * to the statement's execution (prepared statements outlive a rolled-back transaction).
   */
  private readonly parsed = () => {
    const entry = this.parsing.shift();
    const name = entry?.statement.name;
    if (entry === undefined || name === undefined || this.listening === undefined) return;
    entry.parsedHere = false;
    this.listening.parsedStatements[name] = entry.statement.text;
    delete this.listening.submittedNamedStatements[name];
  };

  private settle(error?: unknown, connection?: Connection): void {
    if (this.settled) return;
    this.settled = true;
    this.listening?.off("parseComplete", this.parsed);
    this.entries.forEach((entry, index) => {
      if (index < this.current) return entry.resolve(entry.result!);
      const { name } = entry.statement;
      if (entry.parsedHere && name !== undefined && connection) delete connection.submittedNamedStatements[name];
      entry.reject(index === this.current ? error : notRun(error));
    });
  }
}
