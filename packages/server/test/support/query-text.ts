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
