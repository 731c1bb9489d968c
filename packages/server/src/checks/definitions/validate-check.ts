// A check definition as a client sent it, made ready to store: read through the protocol's one
// schema, `<redacted>` headers put back from the stored check, and targets the core may not
// probe refused. Every problem is an issue at its path (`assertions.0.value`, `url`), and the
// whole definition is refused: nothing of it is stored.
import { type CheckDefinition, checkDefinitionSchema } from "@vantage/protocol";
import { VantageError } from "../../errors.ts";
import { type InputIssue, toInputIssues } from "../../http/index.ts";
import { checkSecrets } from "./header-secrets.ts";
import { refusedTargetIssues } from "./private-targets.ts";

export interface ValidateCheckOptions {
  /** VANTAGE_ALLOW_PRIVATE_TARGETS: the core may probe link-local and cloud-metadata targets. */
  allowPrivateTargets: boolean;
}

export function invalidCheck(issues: InputIssue[], cause?: unknown): VantageError {
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  return new VantageError("invalid_input", "invalid_check", `Invalid check: ${summary}.`, { cause, details: { issues } });
}

/**
 * The definition to store, or an invalid_check error listing each issue. `stored` is the
 * definition being replaced (sealed as stored), whose headers a `<redacted>` keeps; null for a
 * new check, where `<redacted>` keeps nothing and is refused.
 */
export function validateCheck(body: unknown, stored: CheckDefinition | null, options: ValidateCheckOptions): CheckDefinition {
  const parsed = checkDefinitionSchema.safeParse(body);
  if (!parsed.success) throw invalidCheck(toInputIssues(parsed.error), parsed.error);
  const restored = checkSecrets.restore(parsed.data, stored);
  const issues = [...restored.issues, ...(options.allowPrivateTargets ? [] : refusedTargetIssues(parsed.data))];
  if (issues.length > 0) throw invalidCheck(issues);
  return restored.document;
}
