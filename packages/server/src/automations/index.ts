// Automations: trigger registry, definition compiler (expressions, conditions, actions),
// storage of definitions and their HTTP API. Routing and runs build on these.
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
export { createAutomationRoutes } from "./automation-routes.ts";
export type { AutomationRoutesOptions } from "./automation-routes.ts";
export { createTriggerRoutes } from "./trigger-routes.ts";
