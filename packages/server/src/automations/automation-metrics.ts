// Prometheus counters of the automation engine: what the router decided (runs, skips by
// reason, `for:` timers), how steps and runs ended. Fed by the sink's, the timers' and the
// executor's observer hooks, so the engine itself knows nothing of metrics.
import { Counter, type Registry } from "prom-client";
import { eachValue, zeroSeries } from "../http/index.ts";
import { SKIP_REASONS } from "./runs/automation-runs.ts";
import type { SinkDecision } from "./routing/automation-sink.ts";
import type { RunEvent } from "./execution/run-executor.ts";
import { STEP_STATUSES } from "./runs/run-records.ts";

/** How a run can end, as RunEvent reports it. */
const RUN_END_STATUSES: ReadonlyArray<Extract<RunEvent, { type: "run" }>["status"]> = ["succeeded", "failed"];

export interface AutomationMetrics {
  onDecision(decision: SinkDecision): void;
  onRunEvent(event: RunEvent): void;
}

export function createAutomationMetrics(registry: Registry): AutomationMetrics {
  const decisions = zeroSeries(
    new Counter({
      name: "vantage_automation_decisions_total",
      help: "Trigger matches decided: outcome run, skip (with its reason), timer (a for: timer started) or timer_cancelled",
      labelNames: ["outcome", "reason"] as const,
      registers: [registry],
    }),
    [...["run", "timer", "timer_cancelled"].map((outcome) => ({ outcome, reason: "" })), ...SKIP_REASONS.map((reason) => ({ outcome: "skip", reason }))],
  );
  const steps = zeroSeries(
    new Counter({
      name: "vantage_automation_steps_total",
      help: "Automation steps stored, by status (running, waiting, succeeded, failed, cancelled)",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    eachValue("status", STEP_STATUSES),
  );
  const runs = zeroSeries(
    new Counter({
      name: "vantage_automation_runs_ended_total",
      help: "Automation runs ended, by status",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    eachValue("status", RUN_END_STATUSES),
  );
  return {
    onDecision(decision) {
      // A redelivered change decides nothing new: count what was recorded only.
      if ("recorded" in decision && !decision.recorded) return;
      decisions.inc({ outcome: decision.outcome, reason: decision.outcome === "skip" ? decision.reason : "" });
    },
    onRunEvent(event) {
      if (event.type === "run") runs.inc({ status: event.status });
      else steps.inc({ status: event.status });
    },
  };
}
