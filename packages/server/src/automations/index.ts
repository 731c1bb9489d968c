// Automations: trigger registry, definition compiler (expressions, conditions, actions),
// storage of definitions (versions, sealed secrets) and their HTTP API, the router's event
// index and sink that decide runs under their mode (or skips, or `for:` timers), and the
// executor that runs them on graphile-worker, one stored step at a time; leases, retention
// and metrics around them.
export { defineTrigger } from "./trigger.ts";
export type { TriggerDefinition } from "./trigger.ts";
export { createTriggerRegistry, toOutputJsonSchema } from "./trigger-registry.ts";
export type { JsonSchema, TriggerInfo, TriggerRegistry } from "./trigger-registry.ts";
export { compileAutomation } from "./compile-automation.ts";
export type { CompileOptions, CompileResult, CompiledAction, CompiledAutomation, CompiledTrigger, JsonTemplate } from "./compile-automation.ts";
export type { AutomationIssue } from "./compile-scope.ts";
export type { ConditionChecker } from "./compile-condition.ts";
export * from "./expressions/index.ts";
export { AUTOMATIONS_CHANGED_CHANNEL, AutomationStore } from "./automation-store.ts";
export { REDACTED, redactSecrets, restoreSecrets } from "./webhook-secrets.ts";
export type { AutomationChangeNotice, AutomationChangeOp, AutomationView } from "./automation-store.ts";
export { createAutomationIndex } from "./automation-index.ts";
export type { AutomationIndex, AutomationIndexOptions, IndexedAutomation, IndexedTrigger } from "./automation-index.ts";
export { AUTOMATION_SINK_NAME, createAutomationSink } from "./automation-sink.ts";
export type { AutomationSinkOptions, SinkDecision } from "./automation-sink.ts";
export { cancelRun, startRun } from "./run-admission.ts";
export type { Decision, RunPolicy, RunRequest } from "./run-admission.ts";
export { createTimerFiring, TIMER_TASK } from "./trigger-timers.ts";
export type { TimerFiringOptions } from "./trigger-timers.ts";
export { getRun, listRuns, listSkips, MANUAL_TRIGGER_ID, RUN_TASK } from "./automation-runs.ts";
export { listSteps } from "./run-records.ts";
export type { StepStatus, StepView } from "./run-records.ts";
export { createRunExecutor } from "./run-executor.ts";
export type { RunEvent, RunExecutor, RunExecutorOptions } from "./run-executor.ts";
export { createAutomationWorker, DEFAULT_WORKER_CONCURRENCY } from "./automation-worker.ts";
export type { AutomationWorker, AutomationWorkerOptions } from "./automation-worker.ts";
export {
  createLeaseSweeper,
  DEFAULT_LEASE_RENEW_INTERVAL_MS,
  DEFAULT_LEASE_SWEEP_INTERVAL_MS,
  DEFAULT_LEASE_TTL_MS,
  releaseLease,
  renewLease,
  sweepExpiredLeases,
} from "./worker-leases.ts";
export type { LeaseSweeper, LeaseSweeperOptions } from "./worker-leases.ts";
export type { DecisionKey, RunStatus, RunTrigger, RunView, SkipReason, SkipView, Verdict } from "./automation-runs.ts";
export { createAutomationRoutes } from "./automation-routes.ts";
export type { AutomationRoutesOptions } from "./automation-routes.ts";
export { createTriggerRoutes } from "./trigger-routes.ts";
export { createRunPruner, DEFAULT_RETENTION_BATCH_SIZE, DEFAULT_RETENTION_INTERVAL_MS, DEFAULT_RUN_RETENTION_DAYS, pruneRuns } from "./run-retention.ts";
export type { PruneResult, RunPruner, RunPrunerOptions } from "./run-retention.ts";
export { openSecrets, sealSecrets } from "./webhook-secrets.ts";
export type { SealedSecret } from "./webhook-secrets.ts";
export { checkNotifyChannels } from "./notify-channels.ts";
export { createAutomationMetrics } from "./automation-metrics.ts";
export type { AutomationMetrics } from "./automation-metrics.ts";
