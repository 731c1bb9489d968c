// Automations: trigger registry, definition compiler (expressions, conditions, actions),
// storage of definitions (versions, sealed secrets) and their HTTP API, the router's event
// index and sink that decide runs under their mode (or skips, or `for:` timers), and the
// executor that runs them on graphile-worker, one stored step at a time; leases, retention
// and metrics around them.
export { defineTrigger } from "./triggers/trigger.ts";
export type { TriggerDefinition } from "./triggers/trigger.ts";
export { createTriggerRegistry, toOutputJsonSchema } from "./triggers/trigger-registry.ts";
export type { JsonSchema, TriggerInfo, TriggerRegistry } from "./triggers/trigger-registry.ts";
export { compileAutomation } from "./definitions/compile-automation.ts";
export type { CompileOptions, CompileResult, CompiledAction, CompiledAutomation, CompiledTrigger, JsonTemplate } from "./definitions/compile-automation.ts";
export type { AutomationIssue } from "./definitions/compile-scope.ts";
export type { ConditionChecker } from "./definitions/compile-condition.ts";
export * from "./expressions/index.ts";
export { AUTOMATIONS_CHANGED_CHANNEL, AutomationStore } from "./definitions/automation-store.ts";
export { REDACTED, redactSecrets, restoreSecrets } from "./definitions/webhook-secrets.ts";
export type { AutomationChangeNotice, AutomationChangeOp, AutomationView } from "./definitions/automation-store.ts";
export { createAutomationIndex } from "./routing/automation-index.ts";
export type { AutomationIndex, AutomationIndexOptions, IndexedAutomation, IndexedTrigger } from "./routing/automation-index.ts";
export { AUTOMATION_SINK_NAME, createAutomationSink } from "./routing/automation-sink.ts";
export type { AutomationSinkOptions, SinkDecision } from "./routing/automation-sink.ts";
export { cancelRun, startRun } from "./runs/run-admission.ts";
export type { Decision, RunPolicy, RunRequest } from "./runs/run-admission.ts";
export { createTimerFiring } from "./routing/trigger-timers.ts";
export type { TimerFiringOptions } from "./routing/trigger-timers.ts";
export { getRun, listRuns, listSkips, MANUAL_TRIGGER_ID } from "./runs/automation-runs.ts";
export { listSteps } from "./runs/run-records.ts";
export type { StepStatus, StepView } from "./runs/run-records.ts";
export { createRunExecutor } from "./execution/run-executor.ts";
export type { RunEvent, RunExecutor, RunExecutorOptions } from "./execution/run-executor.ts";
export { createAutomationWorker, DEFAULT_WORKER_CONCURRENCY } from "./execution/automation-worker.ts";
export type { AutomationWorker, AutomationWorkerOptions } from "./execution/automation-worker.ts";
export {
  createLeaseSweeper,
  DEFAULT_LEASE_RENEW_INTERVAL_MS,
  DEFAULT_LEASE_SWEEP_INTERVAL_MS,
  DEFAULT_LEASE_TTL_MS,
  releaseLease,
  renewLease,
  sweepExpiredLeases,
} from "./execution/worker-leases.ts";
export type { LeaseSweeper, LeaseSweeperOptions } from "./execution/worker-leases.ts";
export type { DecisionKey, RunStatus, RunTrigger, RunView, SkipReason, SkipView, Verdict } from "./runs/automation-runs.ts";
export { createAutomationRoutes } from "./api/automation-routes.ts";
export type { AutomationRoutesOptions } from "./api/automation-routes.ts";
export { createTriggerRoutes } from "./api/trigger-routes.ts";
export { createRunPruner, DEFAULT_RETENTION_BATCH_SIZE, DEFAULT_RETENTION_INTERVAL_MS, DEFAULT_RUN_RETENTION_DAYS, pruneRuns } from "./runs/run-retention.ts";
export type { PruneResult, RunPruner, RunPrunerOptions } from "./runs/run-retention.ts";
export { openSecrets, sealSecrets } from "./definitions/webhook-secrets.ts";
export type { SealedSecret } from "./definitions/webhook-secrets.ts";
export { checkNotifyChannels } from "./api/notify-channels.ts";
export { createAutomationMetrics } from "./automation-metrics.ts";
export type { AutomationMetrics } from "./automation-metrics.ts";
