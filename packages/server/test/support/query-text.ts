// The SQL text of a statement as pg's query() takes it: a string, or a config object (a named
// statement's `{ name, text, values }`). Tests that watch or EXPLAIN statements read it here.

/** The statement's text, or "" for an argument that is neither a string nor a query config. */
export function textOf(query: unknown): string {
  if (typeof query === "string") return query;
  const text = (query as { text?: unknown } | null | undefined)?.text;
  return typeof text === "string" ? text : "";
}
