// A plan as people read it in a terminal or a CI log: one line per resource that changes, its
// changed fields beneath (secrets already masked by the core), drift called out, and a summary.
import type { ConfigPlan, FieldChange, PlannedChange } from "@vantage/protocol";
import type { BundleTrial, CheckTrial } from "../bundle-trial.ts";

const SIGN: Record<PlannedChange["action"], string> = { create: "+", update: "~", delete: "-", detach: "!", "no-op": "=" };

const show = (value: unknown): string => (value === undefined ? "(unset)" : JSON.stringify(value));

function fieldLine(change: FieldChange): string {
  if (!("before" in change)) return `      ${change.path}: ${show(change.after)}`;
  if (!("after" in change)) return `      ${change.path}: ${show(change.before)} → (unset)`;
  return `      ${change.path}: ${show(change.before)} → ${show(change.after)}`;
}

function resourceLines(change: PlannedChange): string[] {
  const notes = [
    change.previousName === undefined ? undefined : `renamed from "${change.previousName}"`,
    change.adopt ? "adopted: not owned by any bundle yet" : undefined,
    change.drift ? "DRIFT: edited outside the bundle since its last apply; the apply overwrites that" : undefined,
  ].filter((note) => note !== undefined);
  const head = `  ${SIGN[change.action]} ${change.kind} "${change.name}" ${change.action}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  return change.action === "update" ? [head, ...change.changes.map(fieldLine)] : [head];
}

export function renderPlan(plan: ConfigPlan): string {
  const count = (action: PlannedChange["action"]) => plan.changes.filter((change) => change.action === action).length;
  const shown = plan.changes.filter((change) => change.action !== "no-op" || change.drift || change.adopt);
  const lines = [`Plan for bundle "${plan.bundle}":`, ...shown.flatMap(resourceLines)];
  const drift = plan.changes.filter((change) => change.drift).length;
  lines.push(
    `${plan.hasChanges ? "Changes" : "No changes"}: ${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete, ${count("detach")} to detach, ${count("no-op")} unchanged${drift > 0 ? `; ${drift} drifted` : ""}.`,
  );
  return `${lines.join("\n")}\n`;
}

function trialLine(trial: CheckTrial): string {
  const head = `Check "${trial.name}" on ${trial.location}`;
  if (trial.error !== undefined) return `  ✗ ${head}: not run: ${trial.error}`;
  if (trial.outcome === undefined) return `  - ${head}: skipped (${trial.skipped ?? "not run"})`;
  const { status, durationMs, detail } = trial.outcome;
  const why = detail.reason ?? detail.error?.message;
  return `  ${status === "up" ? "✓" : "✗"} ${head}: ${status} in ${Math.round(durationMs)} ms${status === "up" || why === undefined ? "" : ` (${why})`}`;
}

/** `vantage test`'s outcome: each check's run, then whether the bundle passed (nothing was saved). */
export function renderTrial(trial: BundleTrial): string {
  const failed = trial.checks.filter((check) => check.error !== undefined || (check.outcome !== undefined && check.outcome.status !== "up")).length;
  const lines = [
    `Tested bundle "${trial.plan.bundle}" (valid; nothing saved):`,
    ...trial.checks.map(trialLine),
    trial.passed ? `Passed: ${trial.checks.length} check(s).` : `Failed: ${failed} of ${trial.checks.length} check(s) not up.`,
  ];
  return `${lines.join("\n")}\n`;
}
