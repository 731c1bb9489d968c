// The SQL text of a statement as pg's query() takes it: a string, or a config object (a named
// statement's `{ name, text, values }`). Tests that watch or EXPLAIN statements read it here.
import { StatementBatch } from "../../src/entities/statement-batch.ts";

/** The statement's text, or "" for an argument that is neither a string nor a query config. */
export function textOf(query: unknown): string {
  if (typeof query === "string") return query;
  const text = (query as { text?: unknown } | null | undefined)?.text;
  return typeof text === "string" ? text : "";
}

/**
 * The statements of spied `pg.Client.prototype.query` calls, one entry each: a pipelined
 * transaction's round trip reaches pg as one StatementBatch, which stands for its statements.
 */
export function statementsSent(calls: ReadonlyArray<readonly unknown[]>): unknown[] {
  return calls.flatMap(([query]) => (query instanceof StatementBatch ? query.statements : [query]));
}

/** What a spy on `pg.Client.prototype.query` saw: each call's arguments, and the client it was made on. */
interface QuerySpy {
  mock: { calls: ReadonlyArray<readonly unknown[]>; contexts: readonly unknown[] };
}

/**
 * One transaction's round trips as the spy saw them, each the statement texts sent together:
 * from the first call that `starts` matches to its connection's COMMIT, leaving out calls on other
 * connections (other work shares the pool).
 */
export function roundTripsOfTransaction(spy: QuerySpy, starts: (texts: readonly string[]) => boolean): string[][] {
  const calls = spy.mock.calls.map(([query], i) => ({ client: spy.mock.contexts[i], texts: statementsSent([[query]]).map(textOf) }));
  const first = calls.findIndex(({ texts }) => starts(texts));
  const ours = calls.slice(first).filter(({ client }) => client === calls[first]!.client);
  return ours.slice(0, ours.findIndex(({ texts }) => texts.includes("COMMIT")) + 1).map(({ texts }) => texts);
}
