// Reads an automation definition from a request: JSON, or YAML when the content type says so
// (`application/yaml`, `text/yaml`). A YAML syntax error names its line and column.
import type { Context } from "hono";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { VantageError } from "../errors.ts";
import { readJsonBody } from "../http/request-body.ts";

const YAML_TYPE = /^(application|text)\/(x-)?yaml\b/i;

export async function readDefinitionBody(c: Context): Promise<unknown> {
  if (!YAML_TYPE.test(c.req.header("content-type") ?? "")) return readJsonBody(c, z.unknown());
  // Plain data only: no custom tags, and a bound on aliases so a small body cannot expand.
  const lines = new LineCounter();
  const document = parseDocument(await c.req.text(), { prettyErrors: false, lineCounter: lines });
  const error = document.errors[0];
  if (error) {
    const at = lines.linePos(error.pos[0]);
    throw invalidYaml(`the body is not valid YAML at line ${at.line}, column ${at.col}: ${error.message}`, error);
  }
  try {
    return document.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (cause) {
    throw invalidYaml(`the body's YAML cannot be read: ${(cause as Error).message}`, cause);
  }
}

function invalidYaml(message: string, cause: unknown): VantageError {
  return new VantageError("invalid_input", "invalid_input", `Invalid request body: ${message}.`, { cause, details: { issues: [{ path: "", message }] } });
}
