// Automations: trigger registry, definition compiler (expressions, conditions, actions),
// storage of definitions (versions, sealed secrets) and their HTTP API, the router's event
// index and sink that decide runs under their mode (or skips, or `for:` timers), and the
// executor that runs them on graphile-worker, one stored step at a time; leases, retention
// and metrics around them.
export { defineTrigger } from "./triggers/trigger.ts";
export { createTriggerRegistry } from "./triggers/trigger-registry.ts";
export type { TriggerRegistry } from "./triggers/trigger-registry.ts";
export { AutomationStore } from "./definitions/automation-store.ts";
export { createAutomationCompiler } from "./definitions/automation-compiler.ts";
export type { AutomationCompiler } from "./definitions/automation-compiler.ts";
export { createAutomationIndex } from "./routing/automation-index.ts";
export type { AutomationIndex } from "./routing/automation-index.ts";
export { createAutomationSink } from "./routing/automation-sink.ts";
export { createTimerFiring } from "./routing/trigger-timers.ts";
export { createRunExecutor } from "./execution/run-executor.ts";
export { createAutomationWorker, DEFAULT_WORKER_CONCURRENCY } from "./execution/automation-worker.ts";
export { createLeaseSweeper } from "./execution/worker-leases.ts";
export { createAutomationRoutes } from "./api/automation-routes.ts";
export { createTriggerRoutes } from "./api/trigger-routes.ts";
export { createRunPruner } from "./runs/run-retention.ts";
export { createAutomationMetrics } from "./automation-metrics.ts";
export { startAutomations } from "./start.ts";
export type { AutomationsModule, AutomationsOptions } from "./start.ts";
