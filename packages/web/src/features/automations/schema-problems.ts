// The automation editor's check while typing: the YAML read and held to the JSON Schema the
// core publishes (GET /automations/schema), each problem at its path as the core names paths
// (`actions.0.delay.duration`). It catches what the definition's shape refuses — a missing
// field, an action with no kind or two, a duration over 30 days — without a round trip; what
// needs the core (trigger events, channels, regex syntax) stays with POST /automations/validate.
// Ajv and the YAML parser are imported here only, so they load with the editor, not the app.
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { type Document, isNode, LineCounter, parseDocument } from "yaml";

export interface SchemaProblem {
  path: string;
  message: string;
  /** The line of the YAML text the path leads to (1-based), or of the nearest field above it that is there. */
  line?: number;
}

/** A checker for the published schema: YAML text in, its problems out (none: the shape is right). */
export type SchemaChecker = (yaml: string) => SchemaProblem[];

/** At most this many problems are listed: past the first few, the rest are usually their echoes. */
const MAX_PROBLEMS = 8;

export function schemaChecker(schema: Record<string, unknown>): SchemaChecker {
  // verbose: the errors carry their schema, for the kinds an action may have. Not strict: an annotation keyword this Ajv does not know must not stop the editor (the server's test holds the schema strict).
  const validate: ValidateFunction = new Ajv2020({ strict: false, allErrors: true, verbose: true }).compile(schema);
  return (yaml) => {
    const lines = new LineCounter();
    const document = parseDocument(yaml, { prettyErrors: true, lineCounter: lines });
    const [error] = document.errors;
    if (error) return [{ path: "", message: `the YAML does not parse: ${error.message.split("\n")[0]!}`, line: error.linePos?.[0].line }];
    if (validate(document.toJS())) return [];
    // In the order of the text, as the user reads it.
    return problemsOf(validate.errors ?? [])
      .map((problem) => ({ ...problem, line: lineOf(document, lines, problem.path) }))
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  };
}

/** Ajv's errors as the core's issues: a dotted path, one line each, an alternative's failures said once. */
export function problemsOf(errors: readonly ErrorObject[]): SchemaProblem[] {
  // A oneOf/anyOf speaks for the failures of its branches at its own path ("an action with no
  // kind" is one problem, not a "log is required" for each kind); deeper failures inside the
  // branch that was meant stay, they say what is wrong in it.
  const alternatives = errors.filter((error) => error.keyword === "oneOf" || error.keyword === "anyOf");
  const saidByAlternative = (error: ErrorObject) =>
    alternatives.some(
      (alternative) => alternative !== error && error.schemaPath.startsWith(`${alternative.schemaPath}/`) && error.instancePath === alternative.instancePath,
    );
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of errors) {
    if (saidByAlternative(error)) continue;
    const problem = { path: pathOf(error), message: messageOf(error) };
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems.slice(0, MAX_PROBLEMS);
}

function lineOf(document: Document, lines: LineCounter, path: string): number | undefined {
  const segments = path === "" ? [] : path.split(".");
  // A missing field has no node: the nearest one above it that exists says where it belongs.
  for (let depth = segments.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? document.contents : document.getIn(segments.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function pathOf(error: ErrorObject): string {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
  // A missing or unknown field is named at its own path, as the core names it.
  const field =
    error.keyword === "required" ? error.params.missingProperty : error.keyword === "additionalProperties" ? error.params.additionalProperty : undefined;
  if (typeof field === "string") segments.push(field);
  return segments.join(".");
}

/** The field names of alternatives that each require one field: an action's or a condition's kinds. */
function kindsOf(branches: unknown): string[] | null {
  if (!Array.isArray(branches)) return null;
  const kinds = branches.map((branch: { required?: unknown }) =>
    Array.isArray(branch?.required) && branch.required.length === 1 ? String(branch.required[0]) : null,
  );
  return kinds.every((kind) => kind !== null) ? (kinds as string[]) : null;
}

function messageOf(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  if (error.keyword === "oneOf" || error.keyword === "anyOf") {
    const kinds = kindsOf(error.schema);
    if (kinds) return `must have exactly one of: ${kinds.join(", ")}`;
    return typeof description === "string" ? `does not match: ${description}` : "matches none of the forms allowed here";
  }
  if (error.keyword === "pattern") return typeof description === "string" ? `does not match: ${description}` : "is not in the form expected here";
  if (error.keyword === "required") return "is required";
  if (error.keyword === "additionalProperties") return "is not a field here";
  if (error.keyword === "enum") return `must be one of ${(error.params.allowedValues as unknown[]).map(String).join(", ")}`;
  return error.message ?? "does not match the schema";
}
