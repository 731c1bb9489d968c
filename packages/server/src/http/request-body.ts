// The API's edge: every request body (JSON, or YAML where a route takes it) and query string is
// read here, bounded (depth, values, safe text) before any schema sees it, then read through a
// zod schema (failures are invalid_input errors listing each problem at its dotted path); and
// keyset page cursors.
import type { Context } from "hono";
import type { z } from "zod";
import { VantageError } from "../errors.ts";
import { checkInput, type InputIssue, invalidBody } from "./check-input.ts";
import { parseYamlBody } from "./parse-yaml-body.ts";

export type { InputIssue } from "./check-input.ts";

/** zod issues as API issues: one per unknown key, so each names its own field. */
export function toInputIssues(error: z.ZodError): InputIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...path, key].join("."), message: "is not a known field" }));
    }
    return [{ path: path.join("."), message: issue.message }];
  });
}

/** Reads a JSON body (whatever its content type says) through `schema`. */
export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  return readBody(c, schema, parseJsonBody);
}

const YAML_TYPE = /^(application|text)\/(x-)?yaml\b/i;

/** Reads a body that is YAML when its content type says so (`application/yaml`, `text/yaml`), else JSON. */
export async function readJsonOrYamlBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  return readBody(c, schema, YAML_TYPE.test(c.req.header("content-type") ?? "") ? parseYamlBody : parseJsonBody);
}

async function readBody<Schema extends z.ZodType>(c: Context, schema: Schema, parse: (text: string) => unknown): Promise<z.infer<Schema>> {
  const body = parse(await c.req.text());
  const issue = checkInput(body, "body");
  if (issue) throw invalidBody([issue]);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidBody(toInputIssues(parsed.error), parsed.error);
  return parsed.data;
}

// JSON.parse itself is iterative: any nesting parses, and checkInput bounds it next.
function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidBody([{ path: "", message: "the body must be a JSON document" }], error);
  }
}

/**
 * Reads a request's query parameters through a zod schema (a strict object refuses unknown
 * ones). A parameter that may repeat is given as its list of values (`c.req.queries(name)`).
 */
export function readQuery<Schema extends z.ZodType>(query: Record<string, string | string[]>, schema: Schema): z.infer<Schema> {
  const issue = checkInput(query, "query");
  if (issue) throw invalidQuery([issue]);
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  throw invalidQuery(toInputIssues(parsed.error), parsed.error);
}

function invalidQuery(issues: InputIssue[], cause?: unknown): VantageError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  return new VantageError("invalid_input", "invalid_query", `Invalid query: ${summary}.`, { cause, details: { issues } });
}

/** The cursor of the page after a keyset page: the last row's key while the page is full, else null. */
export function nextCursor<Row>(rows: readonly Row[], limit: number, keyOf: (row: Row) => string): string | null {
  return rows.length === limit && rows.length > 0 ? keyOf(rows.at(-1)!) : null;
}
