// The API's edge: a JSON request body or a query string read through a zod schema (failures
// are invalid_input errors listing each problem at its dotted path), and keyset page cursors.
import type { Context } from "hono";
import type { z } from "zod";
import { VantageError } from "../errors.ts";

export interface InputIssue {
  /** The field, e.g. `offlineThresholdMs` or `tags.2`; empty for the body as a whole. */
  path: string;
  message: string;
}

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

function invalidInput(issues: InputIssue[], cause?: unknown): VantageError {
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  return new VantageError("invalid_input", "invalid_input", `Invalid request body: ${summary}.`, { cause, details: { issues } });
}

export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (error) {
    throw invalidInput([{ path: "", message: "the body must be a JSON document" }], error);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidInput(toInputIssues(parsed.error), parsed.error);
  return parsed.data;
}

/** Reads a request's query parameters through a zod schema (a strict object refuses unknown ones). */
export function readQuery<Schema extends z.ZodType>(query: Record<string, string>, schema: Schema): z.infer<Schema> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issues = toInputIssues(parsed.error);
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  throw new VantageError("invalid_input", "invalid_query", `Invalid query: ${summary}.`, { cause: parsed.error, details: { issues } });
}

/** The cursor of the page after a keyset page: the last row's key while the page is full, else null. */
export function nextCursor<Row>(rows: readonly Row[], limit: number, keyOf: (row: Row) => string): string | null {
  return rows.length === limit && rows.length > 0 ? keyOf(rows.at(-1)!) : null;
}
