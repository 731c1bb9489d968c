// The API's edge: every request body (JSON, or YAML where a route takes it) and query string is
// read here, bounded (depth, values, safe text) before any schema sees it, then read through a
// zod schema (failures are invalid_input errors listing each problem at its path, in the
// protocol's words); and keyset page cursors.
import { validateInput } from "@vantage/protocol";
import type { Context } from "hono";
import type { z } from "zod";
import { invalidInput } from "../errors.ts";
import { checkInput } from "./check-input.ts";
import { parseYamlBody } from "./parse-yaml-body.ts";

/** Reads a JSON body (whatever its content type says) through `schema`. */
export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  return readBody(c, schema, (text) => parseJsonBody(text, ""));
}

const YAML_TYPE = /^(application|text)\/(x-)?yaml\b/i;

// A route that takes YAML too: a YAML document sent as JSON (the usual mistake) fails JSON.parse.
const YAML_HINT = "; if this is YAML, send it with Content-Type: application/yaml";

/** Reads a body that is YAML when its content type says so (`application/yaml`, `text/yaml`), else JSON. */
export async function readJsonOrYamlBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  const parse = YAML_TYPE.test(c.req.header("content-type") ?? "") ? parseYamlBody : (text: string) => parseJsonBody(text, YAML_HINT);
  return readBody(c, schema, parse);
}

async function readBody<Schema extends z.ZodType>(c: Context, schema: Schema, parse: (text: string) => unknown): Promise<z.infer<Schema>> {
  const body = parse(await c.req.text());
  const issue = checkInput(body, "body");
  if (issue) throw invalidInput([issue]);
  const parsed = validateInput(schema, body, { root: "the body" });
  if (!parsed.ok) throw invalidInput(parsed.issues);
  return parsed.value;
}

// JSON.parse itself is iterative: any nesting parses, and checkInput bounds it next.
function parseJsonBody(text: string, hint: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const problem = text.trim() === "" ? "the body is empty: send a JSON document" : `the body is not valid JSON (${(error as Error).message})`;
    throw invalidInput([{ path: "", message: `${problem}${hint}` }], { cause: error });
  }
}

/**
 * Reads a request's query parameters through a zod schema (a strict object refuses unknown
 * ones). A parameter that may repeat is given as its list of values (`c.req.queries(name)`).
 */
export function readQuery<Schema extends z.ZodType>(query: Record<string, string | string[]>, schema: Schema): z.infer<Schema> {
  const issue = checkInput(query, "query");
  if (issue) throw invalidInput([issue], { code: "invalid_query" });
  const parsed = validateInput(schema, query, { root: "the query", keyNoun: "parameter" });
  if (parsed.ok) return parsed.value;
  throw invalidInput(parsed.issues, { code: "invalid_query" });
}

/** The cursor of the page after a keyset page: the last row's key while the page is full, else null. */
export function nextCursor<Row>(rows: readonly Row[], limit: number, keyOf: (row: Row) => string): string | null {
  return rows.length === limit && rows.length > 0 ? keyOf(rows.at(-1)!) : null;
}
