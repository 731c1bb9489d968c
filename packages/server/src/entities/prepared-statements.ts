// Gives the statements a mutation sends a stable name (one per statement text), so each pooled
// connection parses and plans them once instead of at every mutation.
//
// Why: a mutation sends the owner's read twice and its write once, and an unnamed statement is
// parsed and planned again each time; on the 2-CPU machines that work is a measurable part of
// the database's CPU per mutation (bench/entity-mutations). pg prepares a named statement on a
// connection the first time it runs there, and skips the Parse after that.
import { createHash } from "node:crypto";
import type pg from "pg";
import type { SqlClient } from "./types.ts";

/**
 * How many distinct statement texts get a name, per process. Owners write static SQL with
 * parameters, so a handful per kind is the norm; one that builds its text from values (literals
 * escaped into it) would otherwise leave a prepared statement per value on every connection.
 * Texts past the cap run unnamed, as before.
 */
const MAX_NAMED_TEXTS = 256;

const names = new Map<string, string>();

/** The statement's name: derived from its text, so every process and connection agrees. */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_TEXTS) {
    name = `vantage_entity_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

type QueryArgs = [first: unknown, ...rest: unknown[]];

/** A query config with a name added when it has none (pass-through for anything else). */
function named(args: QueryArgs): unknown[] {
  const [first, ...rest] = args;
  if (typeof first === "string" && rest.length <= 1 && (rest[0] === undefined || Array.isArray(rest[0]))) {
    const name = statementName(first);
    return name ? [{ name, text: first, values: rest[0] }] : args;
  }
  const config = first as Partial<pg.QueryConfig> & { submit?: unknown };
  if (
    config &&
    typeof config === "object" &&
    typeof config.text === "string" &&
    config.name === undefined &&
    config.submit === undefined &&
    rest.length === 0
  ) {
    const name = statementName(config.text);
    return name ? [{ ...config, name }] : args;
  }
  return args;
}

/** Forwards to the connection as it is at each call (a pipelined client's `query` is its own). */
class PreparedStatementClient {
  constructor(private readonly client: SqlClient) {}

  /** Mirrors the connection's, so an owner can still tell a pipelined client. */
  get pipeline(): boolean {
    return (this.client as { pipeline?: boolean }).pipeline === true;
  }

  query(...args: QueryArgs): unknown {
    return (this.client.query as (...a: unknown[]) => unknown).apply(this.client, named(args));
  }
}

/**
 * The client with its statements named, for one call: a mutation's reads go through wrappers of
 * its own that live for one read, which the per-connection cache below would only fill up.
 */
export function withPreparedStatementsOnce(client: SqlClient): SqlClient {
  return new PreparedStatementClient(client) as unknown as SqlClient;
}

// One per connection: a pooled client serves many mutations, each of which hands it over a few times.
const wrapped = new WeakMap<object, SqlClient>();

/**
 * The client as the owner's read and write see it inside a mutation: the same connection, its
 * statements named. Callbacks, cursors and already named statements pass through unchanged.
 */
export function withPreparedStatements(client: SqlClient): SqlClient {
  let prepared = wrapped.get(client);
  if (!prepared) {
    prepared = new PreparedStatementClient(client) as unknown as SqlClient;
    wrapped.set(client, prepared);
  }
  return prepared;
}
