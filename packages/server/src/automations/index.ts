// Automations: trigger registry, definition compiler (expressions, conditions, actions),
// storage of definitions (versions, sealed secrets) and their HTTP API, the router's event
// index and sink that decide runs under their mode (or skips, or `for:` timers), and the
// executor that runs them on graphile-worker, one stored step at a time; leases, retention
// and metrics around them. A core starts it all with startAutomations (start.ts).
export { defineTrigger, SUPPRESSION_REASONS } from "./triggers/trigger.ts";
export type { SuppressionReason } from "./triggers/trigger.ts";
export { createTriggerRegistry } from "./triggers/trigger-registry.ts";
export type { TriggerRegistry } from "./triggers/trigger-registry.ts";
export { createAutomationCompiler } from "./definitions/automation-compiler.ts";
export type { AutomationCompiler } from "./definitions/automation-compiler.ts";
export type { AutomationIndex } from "./routing/automation-index.ts";
export { DEFAULT_WORKER_CONCURRENCY } from "./execution/automation-worker.ts";
export { EXECUTOR_POOL_CONNECTIONS } from "./execution/run-executor.ts";
export { changesOfRun, consequencesOfChanges, runsOfCauses } from "./runs/change-links.ts";
export type { CausedRun, CausedSkip, CausingRun, ChangeConsequences, RunChange } from "./runs/change-links.ts";
export { startAutomations } from "./start.ts";
export { registerReplayCommand } from "./cli/replay-command.ts";
export type { AutomationsModule, AutomationsOptions } from "./start.ts";
export { AutomationStore } from "./definitions/automation-store.ts";
export type { AutomationView } from "./definitions/automation-store.ts";
export type { CompiledAutomation } from "./definitions/compile-automation.ts";
export { redactSecrets as redactWebhookSecrets, restoreSecrets as restoreWebhookSecrets } from "./definitions/webhook-secrets.ts";
