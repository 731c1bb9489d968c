// A check definition as a client sent it, made ready to store: read through the protocol's one
// schema, `<redacted>` headers put back from the stored check, and targets the core may not
// probe refused. Every problem is an issue at its path (`assertions.0.value`, `url`), and the
// whole definition is refused: nothing of it is stored.
import {
  type CheckDefinition,
  checkDefinitionSchema,
  HEARTBEAT_CHECK_TYPE,
  type HeartbeatCheckDefinition,
  heartbeatCheckSchema,
  type Issue,
  validateInput,
} from "@vantage/protocol";
import { invalidInput, type VantageError } from "../../errors.ts";
import { checkSecrets } from "./header-secrets.ts";
import { refusedTargetIssues } from "./private-targets.ts";

export interface ValidateCheckOptions {
  /** VANTAGE_ALLOW_PRIVATE_TARGETS: the core may probe link-local and cloud-metadata targets. */
  allowPrivateTargets: boolean;
}

export function invalidCheck(issues: Issue[]): VantageError {
  return invalidInput(issues, { code: "invalid_check" });
}

/**
 * The definition to store, or an invalid_check error listing each issue. `stored` is the
 * definition being replaced (sealed as stored), whose headers a `<redacted>` keeps; null for a
 * new check, where `<redacted>` keeps nothing and is refused.
 */
export function validateCheck(body: unknown, stored: CheckDefinition | null, options: ValidateCheckOptions): CheckDefinition {
  const parsed = validateInput(checkDefinitionSchema, body, { root: "the check" });
  if (!parsed.ok) throw invalidCheck(parsed.issues);
  const restored = checkSecrets.restore(parsed.value, stored);
  const issues = [...restored.issues, ...(options.allowPrivateTargets ? [] : refusedTargetIssues(parsed.value))];
  if (issues.length > 0) throw invalidCheck(issues);
  return restored.document;
}

/** What the checks table stores: a probed check, or a heartbeat (push) check that nothing probes. */
export type AnyCheckDefinition = CheckDefinition | HeartbeatCheckDefinition;

export function isHeartbeatCheck(definition: { type: string }): definition is HeartbeatCheckDefinition {
  return definition.type === HEARTBEAT_CHECK_TYPE;
}

/** validateCheck for any kind of check: a heartbeat one by its own schema (it has no target, secrets nor schedule). */
export function validateAnyCheck(body: unknown, stored: AnyCheckDefinition | null, options: ValidateCheckOptions): AnyCheckDefinition {
  const type = typeof body === "object" && body !== null ? (body as { type?: unknown }).type : undefined;
  if (type !== HEARTBEAT_CHECK_TYPE) return validateCheck(body, stored !== null && isHeartbeatCheck(stored) ? null : stored, options);
  const parsed = validateInput(heartbeatCheckSchema, body, { root: "the check" });
  if (!parsed.ok) throw invalidCheck(parsed.issues);
  return parsed.value;
}
