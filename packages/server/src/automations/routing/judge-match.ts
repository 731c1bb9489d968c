// What one change means for one listening trigger, decided without writing anything: a skip
// with its reason, a `for:` timer to start, or a run to admit under the automation's mode.
// The router's sink records the answer in its transaction; a replay keeps it in memory.
import { validateInput } from "@vantage/protocol";
import type { RoutedChange } from "../../entities/index.ts";
import type { EvaluationContext } from "../expressions/index.ts";
import type { RunTrigger, SkipReason, Verdict } from "../runs/automation-runs.ts";
import type { RunPolicy } from "../runs/run-admission.ts";
import type { TriggerDefinition } from "../triggers/trigger.ts";
import type { TriggerRegistry } from "../triggers/trigger-registry.ts";
import type { IndexedTrigger } from "./automation-index.ts";
import { evaluateMatch } from "./evaluate-match.ts";

export type Judgment =
  | { type: "skip"; reason: SkipReason; detail: Record<string, unknown>; verdicts: Verdict[] }
  | { type: "timer"; trigger: RunTrigger; verdicts: Verdict[]; forMs: number }
  | { type: "run"; trigger: RunTrigger; verdicts: Verdict[]; policy: RunPolicy; contextKey: string | null };

/** An event's payload checked once against its trigger's schema, for every automation listening. */
export type CheckedPayload = { ok: true; definition: TriggerDefinition; payload: unknown } | { ok: false; detail: { message: string; issues: unknown[] } };

export function checkPayload(triggers: Pick<TriggerRegistry, "get">, eventId: string, payload: unknown): CheckedPayload {
  const definition = triggers.get(eventId);
  if (!definition) return { ok: false, detail: { message: `no trigger ${eventId} is registered`, issues: [] } };
  const parsed = validateInput(definition.payloadSchema, payload, { root: "the payload" });
  if (!parsed.ok) return { ok: false, detail: { message: `the payload does not match the schema of ${eventId}`, issues: parsed.issues } };
  return { ok: true, definition, payload: parsed.value };
}

/**
 * Judges one matched trigger of a routed change: the module's silencing, then the filter and
 * the conditions (only the filter for a `for:` trigger: its conditions wait for the timer).
 * `now` is when the change occurred, so a redelivered or replayed change is judged the same way.
 */
export async function judgeMatch(
  routed: RoutedChange,
  eventId: string,
  checked: CheckedPayload,
  match: IndexedTrigger,
  entity: EvaluationContext["entity"],
): Promise<Judgment> {
  if (!checked.ok) return { type: "skip", reason: "invalid_payload", detail: checked.detail, verdicts: [] };
  const { definition, payload } = checked;
  const suppressed = definition.suppressed?.(payload) ?? null;
  if (suppressed !== null)
    return { type: "skip", reason: suppressed, detail: { message: `${eventId} was silenced by its module (${suppressed})` }, verdicts: [] };
  const { change } = routed;
  const context: EvaluationContext = { trigger: { id: match.trigger.id, event: eventId, payload }, vars: {}, entity, now: Date.parse(change.occurredAt) };
  const { forMs } = match.trigger;
  const verdict = await evaluateMatch(match, context, { filterOnly: forMs !== null });
  if (!verdict.passed) return { type: "skip", reason: verdict.reason, detail: verdict.detail, verdicts: verdict.verdicts };
  const trigger: RunTrigger = {
    event: eventId,
    triggerId: match.trigger.id,
    payload,
    forMs,
    change: { changeId: change.changeId, seq: change.seq, kind: change.kind, id: change.id, occurredAt: change.occurredAt },
  };
  if (forMs !== null) return { type: "timer", trigger, verdicts: verdict.verdicts, forMs };
  const policy = match.automation.compiled.definition;
  const contextKey = policy.concurrency === "context" ? definition.contextKey(payload) : null;
  return { type: "run", trigger, verdicts: verdict.verdicts, policy, contextKey };
}
