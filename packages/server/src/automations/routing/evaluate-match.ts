// A matched trigger's checks, in order: its filter, then each top-level condition of the
// automation. Every check evaluated leaves a verdict, so a run's trace and a skip both show
// which checks passed and which one did not.
import type { IndexedTrigger } from "./automation-index.ts";
import type { Verdict } from "../runs/automation-runs.ts";
import type { EvaluationContext } from "../expressions/index.ts";

export type MatchVerdict =
  { passed: true; verdicts: Verdict[] } | { passed: false; reason: "filter_false" | "condition_false"; detail: Record<string, unknown>; verdicts: Verdict[] };

/** `filterOnly`: a `for:` trigger's start, whose conditions are checked when its timer runs out. */
export async function evaluateMatch(match: IndexedTrigger, context: EvaluationContext, options: { filterOnly?: boolean } = {}): Promise<MatchVerdict> {
  const verdicts: Verdict[] = [];
  const { trigger } = match;
  if (trigger.filter) {
    const passed = await trigger.filter(context);
    verdicts.push({ path: `${trigger.path}.filter`, passed });
    if (!passed)
      return {
        passed,
        reason: "filter_false",
        detail: { path: `${trigger.path}.filter`, message: `the filter of trigger "${trigger.id}" is false` },
        verdicts,
      };
  }
  const conditions = options.filterOnly ? [] : match.automation.compiled.conditions;
  for (let index = 0; index < conditions.length; index++) {
    const passed = await conditions[index]!(context);
    verdicts.push({ path: `conditions.${index}`, passed });
    if (!passed)
      return {
        passed,
        reason: "condition_false",
        detail: { condition: index, path: `conditions.${index}`, message: `condition ${index + 1} false` },
        verdicts,
      };
  }
  return { passed: true, verdicts };
}
